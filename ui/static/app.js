// The web UI's only script. Every page works without it; it makes a few
// things quicker: rows open in place, the account menu closes when you
// click elsewhere, destructive forms ask first, a new key can be copied,
// and the profile form offers "View audit trail" only for administrators.
(function () {
  'use strict';

  function toggleRow(link, focus) {
    var detail = document.getElementById(link.getAttribute('aria-controls'));
    if (!detail) return;
    var open = link.getAttribute('aria-expanded') !== 'true';
    link.setAttribute('aria-expanded', open ? 'true' : 'false');
    detail.hidden = !open;
    link.closest('tr').classList.toggle('open', open);
    var url = new URL(window.location.href);
    var id = link.closest('tr').getAttribute('data-id');
    if (open) url.searchParams.set('open', id); else url.searchParams.delete('open');
    url.hash = '';
    window.history.replaceState(null, '', url.toString());
    if (focus) link.focus();
  }

  document.addEventListener('click', function (e) {
    var t = e.target;
    // Close an open account menu when the click is outside it.
    document.querySelectorAll('details.menu[open]').forEach(function (d) {
      if (!d.contains(t)) d.open = false;
    });
    var toggle = t.closest('a.row-toggle');
    if (toggle) {
      e.preventDefault();
      toggleRow(toggle, false);
      return;
    }
    // A click anywhere on a row opens it, unless it selects text or hits a control.
    var row = t.closest('tr.rec');
    if (row && !t.closest('a, button, input, select, textarea') && String(window.getSelection()) === '') {
      var link = row.querySelector('a.row-toggle');
      if (link) toggleRow(link, true);
      return;
    }
    var copy = t.closest('[data-copy]');
    if (copy) {
      var input = document.getElementById(copy.getAttribute('data-copy'));
      if (!input) return;
      input.select();
      var done = function () { copy.textContent = 'Copied'; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else if (document.execCommand('copy')) {
        done();
      }
    }
  });

  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (e.key === 'Escape') {
      document.querySelectorAll('details.menu[open]').forEach(function (d) {
        d.open = false;
        d.querySelector('summary').focus();
      });
      return;
    }
    var toggle = t.closest && t.closest('a.row-toggle');
    if (!toggle) return;
    if (e.key === ' ') {
      e.preventDefault();
      toggleRow(toggle, true);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      var all = Array.prototype.slice.call(document.querySelectorAll('a.row-toggle'));
      var i = all.indexOf(toggle) + (e.key === 'ArrowDown' ? 1 : -1);
      if (i >= 0 && i < all.length) {
        e.preventDefault();
        all[i].focus();
      }
    }
  });

  document.addEventListener('submit', function (e) {
    var msg = e.target.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) e.preventDefault();
  });

  // The View audit trail permission follows the role of the profile.
  var role = document.getElementById('role');
  var perm = document.getElementById('perm-view');
  if (role && perm && !role.disabled) {
    role.addEventListener('change', function () {
      var admin = role.value === 'administrator';
      perm.disabled = !admin;
      if (!admin) perm.checked = false;
      document.querySelectorAll('[data-role-note]').forEach(function (n) {
        n.hidden = (n.getAttribute('data-role-note') === 'admin') !== admin;
      });
    });
  }

  // Choosing "Custom range" moves to its first date.
  var timeframe = document.getElementById('f-timeframe');
  if (timeframe) {
    timeframe.addEventListener('change', function () {
      var from = document.getElementById('f-from');
      if (timeframe.value === 'custom' && from) from.focus();
    });
  }
})();
