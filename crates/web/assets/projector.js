// The projector screen: asks for the current check-in code every few seconds and
// swaps in the new QR code and digits without reloading the page. When a request
// fails (the school's Wi-Fi blinks), the last good code stays on screen with a small
// "reconnecting" mark, and polling simply carries on until the server answers again.
(function () {
  'use strict';
  var root = document.getElementById('projector');
  if (!root) { return; }
  var url = '/api/v1/sessions/' + encodeURIComponent(root.dataset.session) + '/checkin-code?svg=true';
  var qr = document.getElementById('qr');
  var code = document.getElementById('code');
  var checked = document.getElementById('checked');
  var invited = document.getElementById('invited');
  var offline = document.getElementById('offline');
  var every = 3000;

  function apply(d) {
    if (d.code !== code.textContent && d.qr_svg) {
      // Our own server's SVG: nothing but a rect and a path.
      qr.innerHTML = d.qr_svg;
      code.textContent = d.code;
    }
    checked.textContent = String(d.checked_in);
    invited.textContent = String(d.invited);
  }

  function tick() {
    var ctl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) { ctl.abort(); } }, 5000);
    fetch(url, { credentials: 'same-origin', cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (r) { if (!r.ok) { throw new Error('HTTP ' + r.status); } return r.json(); })
      .then(function (d) { apply(d); offline.hidden = true; })
      .catch(function () { offline.hidden = false; })
      .then(function () { clearTimeout(timer); setTimeout(tick, every); });
  }
  setTimeout(tick, every);

  var fs = document.getElementById('fullscreen');
  if (fs && document.documentElement.requestFullscreen) {
    fs.addEventListener('click', function () {
      document.documentElement.requestFullscreen().catch(function () {});
    });
  } else if (fs) {
    fs.hidden = true;
  }
})();
