// Draws every element with a data-chart attribute (an ECharts option as JSON, built on
// the server) and keeps charts sized to their box on phones that rotate. A chart with
// nothing to show says so (the page's `data-no-data` text, 暂无数据) instead of drawing
// empty axes that look like a fault.
(function () {
  function valueOf(v) { return v !== null && typeof v === 'object' ? v.value : v; }

  // Every series empty or all zero; a series with a target line (progress towards the
  // yearly target) is meaningful at zero and never counts as empty.
  function isEmpty(option) {
    var series = option.series || [];
    return series.length > 0 && series.every(function (s) {
      if (s.markLine) return false;
      var data = s.data || [];
      return data.every(function (v) { var n = Number(valueOf(v)); return !n; });
    });
  }

  function draw(root) {
    if (!window.echarts) return;
    root.querySelectorAll('[data-chart]').forEach(function (el) {
      if (el.dataset.drawn) return;
      el.dataset.drawn = '1';
      // A bar chart of many rows (every school of a county) grows so each keeps a label.
      var rows = parseInt(el.dataset.rows || '0', 10);
      if (rows > 10) el.style.height = (rows * 22 + 80) + 'px';
      var option = JSON.parse(el.getAttribute('data-chart'));
      if (isEmpty(option)) {
        // The title stays (which chart this is); axes and legend of nothing go.
        el.classList.add('chart-empty');
        option = {
          title: option.title,
          graphic: [{
            type: 'text', left: 'center', top: 'middle',
            style: { text: document.documentElement.dataset.noData || '-', fontSize: 16, fill: '#5f6673' },
          }],
        };
      }
      var chart = window.echarts.init(el, null, { renderer: 'svg' });
      chart.setOption(option);
      window.addEventListener('resize', function () { chart.resize(); });
    });
  }
  // Exposed so that a page adding a chart later (and the browser tests) can draw it.
  window.jxCharts = { draw: draw };
  document.addEventListener('DOMContentLoaded', function () { draw(document); });
})();
