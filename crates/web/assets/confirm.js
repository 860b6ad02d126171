// Asks before a form that undoes something is sent (cancelling a session, revoking a
// role or a token, removing a member, deleting a course, a body or a breakout, awarding,
// upholding an objection): such a form carries the question in `data-confirm`, and in
// `data-confirm-if` the checkbox that makes it a question (an objection is upheld only
// when ticked). A file of its own because the Content-Security-Policy allows no inline
// script.
document.addEventListener('submit', (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  const when = question ? form.dataset.confirmIf : undefined;
  if (when && !(form.elements.namedItem(when) || {}).checked) {
    return;
  }
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
