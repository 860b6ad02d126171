// Draws every element with a data-chart attribute (an ECharts option as JSON, built on
// the server) and keeps charts sized to their box on phones that rotate.
(function () {
  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll('[data-chart]').forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = '1';
      // A bar chart of many rows (every school of a county) grows so each keeps a label.
      var rows = parseInt(el.dataset.rows || '0', 10);
      if (rows > 10) el.style.height = (rows * 22 + 80) + 'px';
      var chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(JSON.parse(el.getAttribute('data-chart')));
      window.addEventListener('resize', function () { chart.resize(); });
    });
  }
  document.addEventListener('DOMContentLoaded', function () { draw(document); });
})();
