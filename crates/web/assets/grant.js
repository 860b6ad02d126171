// Narrows the unit choice of a grant form (`data-grant`) to the units where the chosen
// role may be held: each role option names its kinds in `data-kinds`, each unit option
// its kind in `data-kind`. The server refuses any other pair anyway. A file of its own
// because the Content-Security-Policy allows no inline script.
function narrow(form) {
  const role = form.querySelector('select[name=role]');
  const unit = form.querySelector('select[name=unit_id]');
  if (!role || !unit) return;
  const kinds = (role.selectedOptions[0]?.dataset.kinds ?? '').split(' ');
  const options = [...unit.querySelectorAll('option')];
  for (const o of options) {
    const fits = kinds.includes(o.dataset.kind);
    o.hidden = !fits;
    o.disabled = !fits;
  }
  for (const g of unit.querySelectorAll('optgroup')) {
    g.hidden = ![...g.querySelectorAll('option')].some((o) => !o.disabled);
  }
  if (!unit.selectedOptions[0] || unit.selectedOptions[0].disabled) {
    const first = options.find((o) => !o.disabled);
    if (first) unit.value = first.value;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  for (const form of document.querySelectorAll('form[data-grant]')) {
    narrow(form);
    form.querySelector('select[name=role]')?.addEventListener('change', () => narrow(form));
  }
});
