// Roster marking: the "all as present / late / excused / absent" buttons tick that
// column for every parent of the class; staff then change the few exceptions.
(function () {
  'use strict';
  document.addEventListener('click', function (e) {
    var b = e.target.closest ? e.target.closest('[data-all]') : null;
    if (!b) { return; }
    var form = b.closest('form');
    var radios = form.querySelectorAll('input[type=radio]');
    for (var i = 0; i < radios.length; i++) {
      if (radios[i].value === b.dataset.all) { radios[i].checked = true; }
    }
  });
})();
