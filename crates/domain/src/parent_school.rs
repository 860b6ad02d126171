//! The parent school's vocabulary and rules (DOMAIN.md §1): its bodies and positions,
//! learning forms and their credit weights, the default topic catalogue per school
//! type, the check-in window, and the excellent-trainee rule. Pure: the store feeds
//! these rules with numbers and keeps what they decide.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::SchoolType;
use crate::org::coded_enum;

coded_enum!(
    /// The two bodies of plan 1: 家长学校工作领导小组 (staff) and 家长委员会 (parents).
    CommitteeKind {
        Leadership => "leadership",
        Committee => "committee",
    }
);

coded_enum!(
    /// Named positions; the first three belong to the leadership group, the rest to a
    /// parent committee.
    Position {
        Head => "head",
        Deputy => "deputy",
        Member => "member",
        Chair => "chair",
        ViceChair => "vice_chair",
        SecretaryGeneral => "secretary_general",
        CommitteeMember => "committee_member",
        Contact => "contact",
    }
);

impl Position {
    pub fn belongs_to(self) -> CommitteeKind {
        match self {
            Position::Head | Position::Deputy | Position::Member => CommitteeKind::Leadership,
            _ => CommitteeKind::Committee,
        }
    }

    /// Print order on a roster: heads first.
    pub fn rank(self) -> usize {
        Position::ALL.iter().position(|p| *p == self).unwrap_or(99)
    }

    /// A body has one 组长, one 主任 and one 秘书长; deputies, members and contacts may
    /// be several.
    pub fn is_single(self) -> bool {
        matches!(
            self,
            Position::Head | Position::Chair | Position::SecretaryGeneral
        )
    }

    /// The positions of one body, in roster order.
    pub fn of(kind: CommitteeKind) -> Vec<Position> {
        Position::ALL
            .iter()
            .copied()
            .filter(|p| p.belongs_to() == kind)
            .collect()
    }
}

coded_enum!(
    /// The two parts of a meeting day's programme (plan 2): everyone together (集体活动)
    /// and by class (分散活动), where each class's item may carry its own session.
    ActivityPart {
        Collective => "collective",
        Breakout => "breakout",
    }
);

/// Semesters of a school year: 1 is autumn (第一学期), 2 spring (第二学期).
pub const SEMESTERS: [i32; 2] = [1, 2];

coded_enum!(
    /// 学习形式: the three offline forms of plan 1, the parent class and online (plan 3),
    /// and a meeting day's class breakout (plan 2's 分散活动 / 学员培训), which only a
    /// meeting day creates.
    Form {
        Lecture => "lecture",
        ParentClass => "parent_class",
        OpenDay => "open_day",
        Forum => "forum",
        Online => "online",
        Breakout => "breakout",
    }
);

impl Form {
    /// The forms plan 3's yearly target counts (每年开设百场讲座和家长课堂).
    pub const COUNTED: [Form; 2] = [Form::Lecture, Form::ParentClass];

    /// Whether a held session of this form counts toward the office's yearly target: a
    /// 24-class meeting day is one meeting with 24 breakouts, not 24 lectures.
    pub fn counts_toward_target(self) -> bool {
        Form::COUNTED.contains(&self)
    }

    /// Whether staff may plan a session of this form on its own; breakouts are made
    /// only with their meeting day.
    pub fn plannable(self) -> bool {
        self != Form::Breakout
    }
}

coded_enum!(
    /// Who is invited to a session.
    Audience {
        School => "school",
        Units => "units",
        Parents => "parents",
    }
);

coded_enum!(
    /// Where an excellent-trainee round stands (`excellence_round.status`): computed by
    /// the rule → reviewed by staff → on public notice → awarded.
    RoundStatus {
        Computed => "computed",
        Reviewed => "reviewed",
        Notice => "notice",
        Awarded => "awarded",
    }
);

coded_enum!(
    /// What became of one nominee (`excellence_nominee.decision`).
    NomineeDecision {
        Nominated => "nominated",
        Approved => "approved",
        Rejected => "rejected",
        Awarded => "awarded",
    }
);

coded_enum!(
    SessionStatus {
        Planned => "planned",
        Held => "held",
        Cancelled => "cancelled",
    }
);

coded_enum!(
    /// How a parent's attendance was recorded.
    Method {
        Qr => "qr",
        Code => "code",
        Staff => "staff",
        Paper => "paper",
        Offline => "offline",
    }
);

coded_enum!(
    AttendanceStatus {
        Present => "present",
        Late => "late",
        Excused => "excused",
        Absent => "absent",
    }
);

impl AttendanceStatus {
    /// Present and late count as attended; excused and absent do not.
    pub fn attended(self) -> bool {
        matches!(self, AttendanceStatus::Present | AttendanceStatus::Late)
    }
}

coded_enum!(
    /// Why a check-in was refused; stored and shown to staff.
    Refusal {
        ExpiredCode => "expired_code",
        WrongCode => "wrong_code",
        NotInvited => "not_invited",
        TooEarly => "too_early",
        Closed => "closed",
        WrongSchool => "wrong_school",
        NotAParent => "not_a_parent",
        Cancelled => "cancelled",
        NoSession => "no_session",
    }
);

/// A school's settings for one year: credit weight per form and the check-in window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Credit hours per hour of a session, by form code.
    pub weights: BTreeMap<String, f64>,
    pub opens_before_minutes: i32,
    pub closes_after_minutes: i32,
    pub late_after_minutes: i32,
}

impl Default for Settings {
    fn default() -> Self {
        let mut weights = BTreeMap::new();
        weights.insert(Form::Lecture.code().into(), 1.0);
        weights.insert(Form::ParentClass.code().into(), 1.0);
        weights.insert(Form::OpenDay.code().into(), 1.0);
        weights.insert(Form::Forum.code().into(), 1.0);
        weights.insert(Form::Breakout.code().into(), 1.0);
        // Watching online asks less of a parent than coming to school.
        weights.insert(Form::Online.code().into(), 0.5);
        Settings {
            weights,
            opens_before_minutes: 30,
            closes_after_minutes: 120,
            late_after_minutes: 10,
        }
    }
}

impl Settings {
    pub fn weight(&self, form: &str) -> f64 {
        self.weights.get(form).copied().unwrap_or(1.0)
    }

    /// Credit hours for attending a session of `form` lasting `minutes`.
    pub fn credit_hours(&self, form: &str, minutes: i32) -> f64 {
        (minutes.max(0) as f64 / 60.0) * self.weight(form)
    }
}

/// The check-in window of one session, in seconds relative to its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub opens_before_minutes: i32,
    pub closes_after_minutes: i32,
    pub late_after_minutes: i32,
}

impl Window {
    /// Present or late for a check-in `offset_secs` after the start (negative: before),
    /// or the refusal when outside the window.
    pub fn classify(&self, offset_secs: i64) -> Result<AttendanceStatus, Refusal> {
        if offset_secs < -(self.opens_before_minutes as i64) * 60 {
            Err(Refusal::TooEarly)
        } else if offset_secs > self.closes_after_minutes as i64 * 60 {
            Err(Refusal::Closed)
        } else if offset_secs > self.late_after_minutes as i64 * 60 {
            Ok(AttendanceStatus::Late)
        } else {
            Ok(AttendanceStatus::Present)
        }
    }
}

/// What a school asks of an excellent trainee (the document names no criteria).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExcellenceRule {
    /// 0.0–1.0 of the sessions the parent was invited to.
    pub min_attendance_rate: f64,
    pub min_hours: f64,
    pub min_reflections: i64,
    /// Serving on a parent committee is required.
    pub require_committee: bool,
    /// At most this many nominees, best first (0: no limit).
    pub max_nominees: usize,
}

impl Default for ExcellenceRule {
    fn default() -> Self {
        ExcellenceRule {
            min_attendance_rate: 0.8,
            min_hours: 4.0,
            min_reflections: 1,
            require_committee: false,
            max_nominees: 0,
        }
    }
}

/// One parent's year, as the rule sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TraineeYear {
    pub guardian_id: i64,
    pub invited: i64,
    pub attended: i64,
    pub hours: f64,
    pub reflections: i64,
    pub committee: bool,
}

impl TraineeYear {
    pub fn attendance_rate(&self) -> f64 {
        if self.invited == 0 {
            0.0
        } else {
            self.attended as f64 / self.invited as f64
        }
    }
}

/// The reason a parent was nominated: the figures that met the rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nomination {
    pub guardian_id: i64,
    pub attendance_rate: f64,
    pub attended: i64,
    pub invited: i64,
    pub hours: f64,
    pub reflections: i64,
    pub committee: bool,
}

impl ExcellenceRule {
    pub fn qualifies(&self, t: &TraineeYear) -> bool {
        t.invited > 0
            && t.attendance_rate() + 1e-9 >= self.min_attendance_rate
            && t.hours + 1e-9 >= self.min_hours
            && t.reflections >= self.min_reflections
            && (!self.require_committee || t.committee)
    }

    /// The nomination list, best first (attendance rate, then hours, then reflections),
    /// cut to `max_nominees` when set. Ties keep guardian order so the list is stable.
    pub fn nominate(&self, years: &[TraineeYear]) -> Vec<Nomination> {
        let mut out: Vec<Nomination> = years
            .iter()
            .filter(|t| self.qualifies(t))
            .map(|t| Nomination {
                guardian_id: t.guardian_id,
                attendance_rate: t.attendance_rate(),
                attended: t.attended,
                invited: t.invited,
                hours: t.hours,
                reflections: t.reflections,
                committee: t.committee,
            })
            .collect();
        out.sort_by(|a, b| {
            b.attendance_rate
                .total_cmp(&a.attendance_rate)
                .then(b.hours.total_cmp(&a.hours))
                .then(b.reflections.cmp(&a.reflections))
                .then(a.guardian_id.cmp(&b.guardian_id))
        });
        if self.max_nominees > 0 {
            out.truncate(self.max_nominees);
        }
        out
    }
}

/// The shipped topic catalogue of a school type. Primary schools get the nine topics of
/// plan 1 word for word; the others get a starter set in the same spirit to edit.
pub fn default_topics(school_type: Option<SchoolType>) -> &'static [&'static str] {
    match school_type {
        Some(SchoolType::Kindergarten) => &[
            "科学育儿，做智慧型父母",
            "了解幼儿身心发展特点",
            "幼小衔接，为入学做好准备",
            "培养良好的生活与卫生习惯",
            "亲子阅读与游戏陪伴",
            "幼儿安全与意外防护",
        ],
        Some(SchoolType::Junior) | Some(SchoolType::NineYear) => &[
            "更新家教观念，做智慧型父母",
            "了解初中生活，读懂青春期孩子",
            "构建良好的亲子关系，实现有效沟通",
            "重视青春期教育，为成长护航",
            "关注孩子心理健康",
            "指导孩子有效学习，科学应对中考",
            "网络素养与手机使用管理",
            "生命安全与法治教育",
        ],
        Some(SchoolType::SeniorHigh) => &[
            "更新家教观念，做智慧型父母",
            "读懂高中生的心理与压力",
            "构建良好的亲子关系，实现有效沟通",
            "关注孩子心理健康",
            "生涯规划与选科指导",
            "科学应对高考",
        ],
        Some(SchoolType::Vocational) => &[
            "更新家教观念，做智慧型父母",
            "了解职业教育，支持孩子成长成才",
            "构建良好的亲子关系，实现有效沟通",
            "关注孩子心理健康",
            "实习就业与职业规划",
            "安全与法治教育",
        ],
        // Both phases in one school: the junior topics, then what senior years add.
        Some(SchoolType::CompleteSecondary) => &[
            "更新家教观念，做智慧型父母",
            "了解中学生活，读懂青春期孩子",
            "构建良好的亲子关系，实现有效沟通",
            "重视青春期教育，为成长护航",
            "关注孩子心理健康",
            "指导孩子有效学习，科学应对中考",
            "网络素养与手机使用管理",
            "生涯规划与选科指导",
            "科学应对高考",
        ],
        // Primary to senior high: plan 1's primary topics first, then the secondary years'.
        Some(SchoolType::TwelveYear) => &[
            "更新家教观念，做智慧型父母",
            "了解小学生活，读懂孩子心理",
            "构建良好的亲子关系，营造温馨的家庭气氛",
            "重视性启蒙教育，为青春护航",
            "加强人格教育，让孩子学会做人",
            "关注孩子心理健康",
            "提供优质学习平台，指导孩子有效学习",
            "读懂青春期孩子，重视青春期教育",
            "网络素养与手机使用管理",
            "生涯规划与选科指导",
            "科学应对中考与高考",
        ],
        Some(SchoolType::Special) => &[
            "接纳与支持，做智慧型父母",
            "了解孩子的特殊需要",
            "家庭康复训练方法",
            "生活自理能力培养",
            "关注家长与孩子的心理健康",
            "融合教育与社会支持",
        ],
        _ => &PRIMARY_TOPICS,
    }
}

/// The nine topics of plan 1 for a primary school.
pub const PRIMARY_TOPICS: [&str; 9] = [
    "更新家教观念，做智慧型父母",
    "了解小学生活，读懂孩子心理",
    "构建良好的亲子关系，营造温馨的家庭气氛",
    "架设良好的亲子关系，实现亲子沟通",
    "重视性启蒙教育，为青春护航",
    "加强人格教育，让孩子学会做人",
    "关注孩子心理健康",
    "提供优质学习平台，指导孩子有效学习",
    "洞悉世事，练达友情，让孩子学会生活",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_lectures_and_parent_classes_count_toward_the_target() {
        let counted: Vec<Form> = Form::ALL
            .iter()
            .copied()
            .filter(|f| f.counts_toward_target())
            .collect();
        assert_eq!(counted, [Form::Lecture, Form::ParentClass]);
        assert!(!Form::Breakout.plannable());
        assert!(Form::ALL.iter().filter(|f| f.plannable()).count() == Form::ALL.len() - 1);
        // Every form has a credit weight of its own.
        let s = Settings::default();
        for f in Form::ALL {
            assert!(s.weights.contains_key(f.code()), "{f}");
        }
    }

    #[test]
    fn status_codes_round_trip() {
        for s in RoundStatus::ALL {
            assert_eq!(RoundStatus::from_code(s.code()), Some(*s));
        }
        for d in NomineeDecision::ALL {
            assert_eq!(NomineeDecision::from_code(d.code()), Some(*d));
        }
        for s in SessionStatus::ALL {
            assert_eq!(SessionStatus::from_code(s.code()), Some(*s));
        }
        // The codes already in databases stay what they were.
        assert_eq!(RoundStatus::Notice.code(), "notice");
        assert_eq!(NomineeDecision::Awarded.code(), "awarded");
        assert_eq!(RoundStatus::from_code("published"), None);
    }

    #[test]
    fn primary_schools_get_the_nine_topics_of_plan_one() {
        assert_eq!(default_topics(Some(SchoolType::Primary)).len(), 9);
        assert!(default_topics(Some(SchoolType::Primary))[4].contains("性启蒙"));
        for t in SchoolType::ALL {
            assert!(default_topics(Some(*t)).len() >= 6, "{t}");
        }
        // Schools with senior years get the senior topics; a twelve-year school the primary ones too.
        for t in [SchoolType::CompleteSecondary, SchoolType::TwelveYear] {
            assert!(
                default_topics(Some(t)).iter().any(|x| x.contains("高考")),
                "{t}"
            );
        }
        assert!(
            default_topics(Some(SchoolType::TwelveYear))
                .iter()
                .any(|x| x.contains("小学"))
        );
    }

    #[test]
    fn positions_know_their_body() {
        assert_eq!(Position::Head.belongs_to(), CommitteeKind::Leadership);
        assert_eq!(Position::Contact.belongs_to(), CommitteeKind::Committee);
        assert!(Position::Head.rank() < Position::Member.rank());
        assert_eq!(Position::of(CommitteeKind::Leadership).len(), 3);
        assert_eq!(
            Position::of(CommitteeKind::Committee),
            [
                Position::Chair,
                Position::ViceChair,
                Position::SecretaryGeneral,
                Position::CommitteeMember,
                Position::Contact
            ]
        );
        assert!(Position::Chair.is_single() && !Position::ViceChair.is_single());
    }

    #[test]
    fn window_classifies_offsets() {
        let w = Window {
            opens_before_minutes: 30,
            closes_after_minutes: 60,
            late_after_minutes: 10,
        };
        assert_eq!(w.classify(-31 * 60), Err(Refusal::TooEarly));
        assert_eq!(w.classify(-30 * 60), Ok(AttendanceStatus::Present));
        assert_eq!(w.classify(600), Ok(AttendanceStatus::Present));
        assert_eq!(w.classify(601), Ok(AttendanceStatus::Late));
        assert_eq!(w.classify(3600), Ok(AttendanceStatus::Late));
        assert_eq!(w.classify(3601), Err(Refusal::Closed));
    }

    #[test]
    fn credit_hours_follow_the_form_weight() {
        let s = Settings::default();
        assert_eq!(s.credit_hours("lecture", 90), 1.5);
        assert_eq!(s.credit_hours("online", 60), 0.5);
        assert_eq!(s.credit_hours("unknown", 60), 1.0);
    }

    fn year(id: i64, invited: i64, attended: i64, hours: f64, refl: i64) -> TraineeYear {
        TraineeYear {
            guardian_id: id,
            invited,
            attended,
            hours,
            reflections: refl,
            committee: id % 2 == 0,
        }
    }

    #[test]
    fn nomination_applies_every_criterion_and_orders_best_first() {
        let rule = ExcellenceRule::default();
        let years = vec![
            year(1, 10, 8, 8.0, 1),  // 80 %, qualifies
            year(2, 10, 10, 9.0, 2), // best
            year(3, 10, 7, 9.0, 3),  // rate too low
            year(4, 10, 9, 3.0, 1),  // hours too low
            year(5, 10, 9, 9.0, 0),  // no reflection
            year(6, 0, 0, 0.0, 0),   // never invited
        ];
        let n = rule.nominate(&years);
        assert_eq!(
            n.iter().map(|n| n.guardian_id).collect::<Vec<_>>(),
            vec![2, 1]
        );
        let strict = ExcellenceRule {
            require_committee: true,
            ..rule.clone()
        };
        assert_eq!(strict.nominate(&years).len(), 1);
        let one = ExcellenceRule {
            max_nominees: 1,
            ..rule
        };
        assert_eq!(one.nominate(&years)[0].guardian_id, 2);
    }
}
