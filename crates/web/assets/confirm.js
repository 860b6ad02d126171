// Asks before a form that undoes something is sent (cancelling a session, revoking a
// role or a token, removing a member, deleting a course, a body or a breakout): such a
// form carries the question in `data-confirm`. A file of its own because the
// Content-Security-Policy allows no inline script.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
