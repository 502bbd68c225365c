// Vigil network map: draws the neighbourhood the page lists (from the
// JSON in #map-data) with Cytoscape.js. Choosing a node opens its own
// neighbourhood; a right click on a case opens the case. Media are shown by hash
// and verdict only. The list below the graph works without this script.
(function () {
  'use strict';
  var box = document.getElementById('map-graph');
  var data = document.getElementById('map-data');
  if (!box || !data || typeof cytoscape !== 'function') { return; }
  var g = JSON.parse(data.textContent);
  var depth = (new URLSearchParams(window.location.search)).get('depth') || '2';
  var colours = {
    'case': '#c0392b', page: '#2980b9', domain: '#27ae60', media: '#8e44ad', address: '#d35400',
    network: '#7f8c8d', provider: '#16a085', registrar: '#2c3e50', bank_entry: '#000000'
  };
  var elements = [];
  g.nodes.forEach(function (n) {
    var label = n.label.length > 40 ? n.label.slice(0, 39) + '…' : n.label;
    elements.push({data: {id: 'n' + n.id, node: n.id, label: label, kind: n.kind, kase: n.case || 0,
      colour: colours[n.kind] || '#555', centre: n.centre ? 1 : 0}});
  });
  g.edges.forEach(function (e, i) {
    elements.push({data: {id: 'e' + i, source: 'n' + e.source, target: 'n' + e.target, kind: e.kind}});
  });
  var cy = cytoscape({
    container: box,
    elements: elements,
    wheelSensitivity: 0.3,
    style: [
      {selector: 'node', style: {'background-color': 'data(colour)', label: 'data(label)', 'font-size': 9,
        'text-valign': 'bottom', 'text-margin-y': 3, width: 14, height: 14}},
      {selector: 'node[kind = "case"]', style: {shape: 'round-rectangle', width: 20, height: 20}},
      {selector: 'node[kind = "media"]', style: {shape: 'diamond'}},
      {selector: 'node[centre = 1]', style: {'border-width': 3, 'border-color': '#f1c40f', width: 24, height: 24}},
      {selector: 'edge', style: {width: 1, 'line-color': '#bbb', 'target-arrow-color': '#bbb',
        'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(kind)', 'font-size': 7, color: '#888'}}
    ],
    layout: {name: 'cose', animate: false, nodeRepulsion: function () { return 8000; }}
  });
  cy.on('tap', 'node', function (ev) {
    var n = ev.target.data();
    window.location.href = '/staff/map?node=' + n.node + '&depth=' + encodeURIComponent(depth);
  });
  cy.on('cxttap', 'node[kase > 0]', function (ev) { // right click: the case itself
    window.location.href = '/staff/cases/' + ev.target.data('kase');
  });
  box.setAttribute('data-ready', '1');
}());
