-- A meeting day's class breakouts were created as lectures, so a 24-class meeting day
-- added 24 "lectures" toward the office's yearly target (issue 10). They are their own
-- form now; the sessions behind breakout lines already made are moved to it.
UPDATE teaching_session SET form = 'breakout'
WHERE id IN (SELECT session_id FROM activity_item WHERE part = 'breakout' AND session_id IS NOT NULL);
