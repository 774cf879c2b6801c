/* The lineage graph page: layered left-to-right layout, pan, zoom, click for details.
 *
 * Written here rather than taken from npm (cytoscape, dagre) so the project needs no Node
 * toolchain at install time; the layout is the classic Sugiyama recipe in small: layers by
 * depth (or longest path), then a few barycentre sweeps to untangle each layer.
 */
(function () {
  "use strict";
  const SVG = "http://www.w3.org/2000/svg";
  const NODE_W = 210, NODE_H = 26, LAYER_GAP = 300, ROW_GAP = 36;

  function layers(nodes, edges) {
    const layer = new Map();
    if (nodes.every((n) => typeof n.depth === "number")) {
      nodes.forEach((n) => layer.set(n.id, n.depth));
      return layer;
    }
    // Longest path from the sources (Kahn); nodes on cycles go one after their placed inputs.
    const incoming = new Map(nodes.map((n) => [n.id, 0]));
    const out = new Map(nodes.map((n) => [n.id, []]));
    edges.forEach((e) => { out.get(e.source).push(e.target); incoming.set(e.target, incoming.get(e.target) + 1); });
    const queue = nodes.filter((n) => incoming.get(n.id) === 0).map((n) => n.id);
    queue.forEach((id) => layer.set(id, 0));
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i];
      for (const next of out.get(id)) {
        layer.set(next, Math.max(layer.get(next) || 0, layer.get(id) + 1));
        incoming.set(next, incoming.get(next) - 1);
        if (incoming.get(next) === 0) queue.push(next);
      }
    }
    nodes.forEach((n) => { if (!layer.has(n.id)) layer.set(n.id, 0); });
    return layer;
  }

  function order(nodes, edges, layer) {
    const byLayer = new Map();
    nodes.forEach((n) => {
      const l = layer.get(n.id);
      if (!byLayer.has(l)) byLayer.set(l, []);
      byLayer.get(l).push(n.id);
    });
    const keys = [...byLayer.keys()].sort((a, b) => a - b);
    const type = new Map(nodes.map((n) => [n.id, n.type + " " + n.label]));
    keys.forEach((k) => byLayer.get(k).sort((a, b) => type.get(a).localeCompare(type.get(b))));
    const preds = new Map(), succs = new Map();
    edges.forEach((e) => {
      (preds.get(e.target) || preds.set(e.target, []).get(e.target)).push(e.source);
      (succs.get(e.source) || succs.set(e.source, []).get(e.source)).push(e.target);
    });
    const position = new Map();
    const index = () => keys.forEach((k) => byLayer.get(k).forEach((id, i) => position.set(id, i)));
    index();
    const sweep = (layerKeys, neighbours) => {
      layerKeys.forEach((k) => {
        const ids = byLayer.get(k);
        const centre = new Map(ids.map((id, i) => {
          const ns = (neighbours.get(id) || []).filter((n) => position.has(n));
          return [id, ns.length ? ns.reduce((s, n) => s + position.get(n), 0) / ns.length : i];
        }));
        ids.sort((a, b) => centre.get(a) - centre.get(b));
        ids.forEach((id, i) => position.set(id, i));
      });
    };
    for (let pass = 0; pass < 4; pass++) {
      sweep(keys.slice(1), preds);
      sweep(keys.slice(0, -1).reverse(), succs);
    }
    return { byLayer, keys };
  }

  function el(name, attributes, parent) {
    const node = document.createElementNS(SVG, name);
    Object.entries(attributes || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (parent) parent.appendChild(node);
    return node;
  }

  function draw(svg, data) {
    const nodes = data.nodes, edges = data.edges.filter((e) => e.source !== e.target);
    const known = new Set(nodes.map((n) => n.id));
    const shown = edges.filter((e) => known.has(e.source) && known.has(e.target));
    const layer = layers(nodes, shown);
    const { byLayer, keys } = order(nodes, shown, layer);
    const tallest = Math.max(1, ...keys.map((k) => byLayer.get(k).length));
    const xy = new Map();
    keys.forEach((k, column) => {
      const ids = byLayer.get(k);
      const top = ((tallest - ids.length) * ROW_GAP) / 2;
      ids.forEach((id, row) => xy.set(id, [column * LAYER_GAP, top + row * ROW_GAP]));
    });
    const width = Math.max(1, keys.length) * LAYER_GAP, height = tallest * ROW_GAP + ROW_GAP;
    const view = { x: -40, y: -40, w: width + 80, h: height + 80 };
    const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
    apply();
    const defs = el("defs", {}, svg);
    const marker = el("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
    el("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" }, marker);
    const home = { ...view };
    const scene = el("g", { class: "scene" }, svg);
    const edgeLayer = el("g", { class: "edges" }, scene);
    const nodeLayer = el("g", { class: "nodes" }, scene);
    const edgeEls = shown.map((e) => {
      const [x1, y1] = xy.get(e.source), [x2, y2] = xy.get(e.target);
      let d, kind = "";
      if (layer.get(e.source) === layer.get(e.target)) {
        // Within one layer a straight or S-shaped line would run behind the boxes between the
        // two nodes: leave from the right side, bow out into the gap, come back to the target's
        // right side. The further apart, the wider the bow, so nested edges do not overlap.
        const sx = x1 + NODE_W, sy = y1 + NODE_H / 2, ty = y2 + NODE_H / 2;
        const bow = Math.min(LAYER_GAP * 0.4, 30 + Math.abs(ty - sy) * 0.3);
        d = `M${sx},${sy} C${sx + bow},${sy} ${sx + bow},${ty} ${sx},${ty}`;
        kind = " same-layer";
      } else {
        const sx = x1 + NODE_W, sy = y1 + NODE_H / 2, tx = x2, ty = y2 + NODE_H / 2, bend = Math.max(40, Math.abs(tx - sx) / 2);
        d = `M${sx},${sy} C${sx + bend},${sy} ${tx - bend},${ty} ${tx},${ty}`;
      }
      const path = el("path", { class: "edge rel-" + e.relation + kind, "marker-end": "url(#arrow)", d }, edgeLayer);
      el("title", {}, path).textContent = `${e.relation} (${(e.sources || []).join(", ")})`;
      return { edge: e, path };
    });
    const nodeEls = new Map();
    nodes.forEach((n) => {
      const [x, y] = xy.get(n.id);
      const g = el("g", { class: `node t-${n.type}${n.id === data.start ? " start" : ""}`, transform: `translate(${x},${y})`, "data-id": n.id }, nodeLayer);
      el("rect", { width: NODE_W, height: NODE_H, rx: 5 }, g);
      const text = el("text", { x: 8, y: 17 }, g);
      text.textContent = n.label.length > 30 ? n.label.slice(0, 29) + "…" : n.label;
      el("title", {}, g).textContent = `${n.type}: ${n.label}\n${n.id}`;
      nodeEls.set(n.id, g);
    });
    return { nodes, shown, nodeEls, edgeEls, view, apply, home, xy, svg, hidden: new Set(), matches: [], current: -1 };
  }

  function reach(start, edges, forward) {
    const next = new Map();
    edges.forEach((e) => {
      const [from, to] = forward ? [e.source, e.target] : [e.target, e.source];
      (next.get(from) || next.set(from, []).get(from)).push(to);
    });
    const seen = new Set([start]), queue = [start];
    for (let i = 0; i < queue.length; i++) (next.get(queue[i]) || []).forEach((n) => { if (!seen.has(n)) { seen.add(n); queue.push(n); } });
    seen.delete(start);
    return seen;
  }

  function select(state, id, details, dataset) {
    const up = reach(id, state.shown, false), down = reach(id, state.shown, true);
    state.nodeEls.forEach((g, nid) => {
      g.classList.toggle("selected", nid === id);
      g.classList.toggle("up", up.has(nid));
      g.classList.toggle("down", down.has(nid));
      g.classList.toggle("dim", nid !== id && !up.has(nid) && !down.has(nid));
    });
    state.edgeEls.forEach(({ edge, path }) => {
      const lit = (edge.target === id || up.has(edge.target)) && (up.has(edge.source) || edge.source === id) ? "up"
        : (edge.source === id || down.has(edge.source)) && (down.has(edge.target) || edge.target === id) ? "down" : "";
      path.classList.remove("up", "down", "dim");
      path.classList.add(lit || "dim");  // classList, not the attribute: a filtered edge stays hidden
    });
    const node = state.nodes.find((n) => n.id === id);
    const focus = `${dataset.base}?node=${encodeURIComponent(id)}`;
    const pages = dataset.pages;
    const own = node.app_id ? `${pages}apps/${encodeURIComponent(node.app_id)}/` : `${pages}nodes/?id=${encodeURIComponent(id)}`;
    const impact = `${pages}impact/?node=${encodeURIComponent(id)}`;
    details.replaceChildren();
    const add = (tag, text, attrs) => { const e = document.createElement(tag); e.textContent = text; Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v)); details.appendChild(e); return e; };
    add("h2", node.label);
    add("p", `${node.type}${typeof node.depth === "number" ? " · depth " + node.depth : ""}`, { class: "muted" });
    add("code", node.id);
    add("p", `${up.size} upstream, ${down.size} downstream on this page`);
    add("a", node.type === "app" ? "Open the app's page" : "Open its page", { href: own, class: "node-page" });
    add("a", "What breaks if it changes", { href: impact, class: "node-impact" });
    add("a", "Focus the graph on this node", { href: focus, class: "button" });
    if (node.app_id) add("p", `App ${node.app_id}`, { class: "muted" });
  }

  // Set the view to a box of the scene, padded, at the frame's aspect ratio, so that panning
  // and zooming afterwards move by the pixels the user sees.
  function fitBox(state, x0, y0, x1, y1, pad) {
    const svg = state.svg, cw = svg.clientWidth || 800, ch = svg.clientHeight || 500;
    let w = x1 - x0 + 2 * pad, h = y1 - y0 + 2 * pad;
    if (w / h < cw / ch) w = (h * cw) / ch; else h = (w * ch) / cw;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    Object.assign(state.view, { x: cx - w / 2, y: cy - h / 2, w, h });
    state.apply();
  }

  function fitNodes(state, ids, pad) {
    const points = ids.filter((id) => state.xy.has(id)).map((id) => state.xy.get(id));
    if (!points.length) return;
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    // Never closer than about a node and a half across: a single node should keep its context.
    const x0 = Math.min(...xs), x1 = Math.max(...xs) + NODE_W, y0 = Math.min(...ys), y1 = Math.max(...ys) + NODE_H;
    const grow = Math.max(0, NODE_W * 1.5 - (x1 - x0)) / 2;
    fitBox(state, x0 - grow, y0, x1 + grow, y1, pad);
  }

  // The selected node and its direct neighbours, among the nodes not filtered out.
  function neighbourhood(state, id) {
    const ids = new Set([id]);
    state.shown.forEach((e) => {
      if (e.source === id) ids.add(e.target);
      if (e.target === id) ids.add(e.source);
    });
    const type = new Map(state.nodes.map((n) => [n.id, n.type]));
    return [...ids].filter((n) => n === id || !state.hidden.has(type.get(n)));
  }

  // Centre a node; zoom in far enough to read its label when the view is zoomed out further.
  function centre(state, id) {
    const [x, y] = state.xy.get(id), cw = state.svg.clientWidth || 800, ch = state.svg.clientHeight || 500;
    let { w, h } = state.view;
    if (w > cw) { w = cw; h = ch; }
    Object.assign(state.view, { x: x + NODE_W / 2 - w / 2, y: y + NODE_H / 2 - h / 2, w, h });
    state.apply();
  }

  function search(state, query, count) {
    const q = query.trim().toLowerCase();
    state.matches = q ? state.nodes.filter((n) => !state.hidden.has(n.type) && n.label.toLowerCase().includes(q)).map((n) => n.id) : [];
    state.current = state.matches.length ? 0 : -1;
    const found = new Set(state.matches);
    state.nodeEls.forEach((g, id) => { g.classList.toggle("match", found.has(id)); g.classList.remove("current"); });
    showMatch(state, count, q);
  }

  function showMatch(state, count, q) {
    state.nodeEls.forEach((g) => g.classList.remove("current"));
    if (count) count.textContent = !q ? "" : state.matches.length ? `${state.current + 1} of ${state.matches.length}` : "no match";
    if (state.current < 0) return;
    const id = state.matches[state.current];
    state.nodeEls.get(id).classList.add("current");
    centre(state, id);
  }

  function filter(state) {
    const type = new Map(state.nodes.map((n) => [n.id, n.type]));
    state.nodeEls.forEach((g, id) => g.classList.toggle("filtered", state.hidden.has(type.get(id))));
    state.edgeEls.forEach(({ edge, path }) =>
      path.classList.toggle("filtered", state.hidden.has(type.get(edge.source)) || state.hidden.has(type.get(edge.target))));
  }

  function clearSelection(state, details, intro) {
    state.nodeEls.forEach((g) => g.classList.remove("selected", "up", "down", "dim", "match", "current"));
    state.edgeEls.forEach(({ path }) => path.classList.remove("up", "down", "dim"));
    state.matches = []; state.current = -1;
    if (details && intro) details.replaceChildren(...intro.map((n) => n.cloneNode(true)));
  }

  function wireTools(state, details) {
    const box = document.getElementById("graph-search"), count = document.getElementById("graph-search-count");
    const intro = details ? [...details.childNodes].map((n) => n.cloneNode(true)) : null;
    if (box) {
      box.addEventListener("input", () => search(state, box.value, count));
      box.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          if (!state.matches.length) return;
          state.current = (state.current + (event.shiftKey ? state.matches.length - 1 : 1)) % state.matches.length;
          showMatch(state, count, box.value.trim());
        }
        if (event.key === "Escape") { box.value = ""; search(state, "", count); }
      });
    }
    const boxes = [...document.querySelectorAll("#graph-types input[type=checkbox]")];
    boxes.forEach((input) => input.addEventListener("change", () => {
      if (input.checked) state.hidden.delete(input.value); else state.hidden.add(input.value);
      filter(state);
      if (box && box.value.trim()) search(state, box.value, count);
    }));
    const reset = document.getElementById("graph-reset");
    if (reset) reset.addEventListener("click", () => {
      if (box) box.value = "";
      if (count) count.textContent = "";
      boxes.forEach((input) => { input.checked = true; });
      state.hidden.clear();
      clearTimeout(state.fitTimer);
      filter(state);
      clearSelection(state, details, intro);
      Object.assign(state.view, state.home); state.apply();
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const svg = document.getElementById("lineage-graph");
    if (!svg) return;
    const data = JSON.parse(document.getElementById("graph-data").textContent);
    const details = document.getElementById("node-details");
    const state = draw(svg, data);
    wireTools(state, details);
    let drag = null;
    svg.addEventListener("pointerdown", (event) => {
      const node = event.target.closest("g.node");
      if (node) {
        const id = node.dataset.id;
        select(state, id, details, svg.dataset);
        // Then frame its neighbourhood, readable, rather than all nodes; a moment later, so the
        // second click of a double-click still lands on this node.
        clearTimeout(state.fitTimer);
        state.fitTimer = setTimeout(() => fitNodes(state, neighbourhood(state, id), 40), 250);
        return;
      }
      drag = { x: event.clientX, y: event.clientY, vx: state.view.x, vy: state.view.y };
      svg.setPointerCapture(event.pointerId);
    });
    svg.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const scale = state.view.w / svg.clientWidth;
      state.view.x = drag.vx - (event.clientX - drag.x) * scale;
      state.view.y = drag.vy - (event.clientY - drag.y) * scale;
      state.apply();
    });
    svg.addEventListener("pointerup", () => { drag = null; });
    svg.addEventListener("wheel", (event) => {
      event.preventDefault();
      const factor = event.deltaY > 0 ? 1.15 : 1 / 1.15;
      const box = svg.getBoundingClientRect();
      const px = state.view.x + ((event.clientX - box.left) / box.width) * state.view.w;
      const py = state.view.y + ((event.clientY - box.top) / box.height) * state.view.h;
      state.view.x = px - (px - state.view.x) * factor;
      state.view.y = py - (py - state.view.y) * factor;
      state.view.w *= factor;
      state.view.h *= factor;
      state.apply();
    }, { passive: false });
    svg.addEventListener("dblclick", (event) => {
      const node = event.target.closest("g.node");
      clearTimeout(state.fitTimer);
      if (node) window.location.href = `${svg.dataset.base}?node=${encodeURIComponent(node.dataset.id)}`;
    });
    const fit = document.getElementById("graph-fit");
    if (fit) fit.addEventListener("click", () => { clearTimeout(state.fitTimer); Object.assign(state.view, state.home); state.apply(); });
    svg.addEventListener("keydown", (event) => {
      const step = state.view.w / 10, keys = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (keys[event.key]) { state.view.x += keys[event.key][0]; state.view.y += keys[event.key][1]; state.apply(); event.preventDefault(); }
      if (event.key === "+" || event.key === "-") {
        const factor = event.key === "+" ? 1 / 1.2 : 1.2;
        state.view.x += (state.view.w * (1 - factor)) / 2; state.view.y += (state.view.h * (1 - factor)) / 2;
        state.view.w *= factor; state.view.h *= factor; state.apply();
      }
      if (event.key === "0") { Object.assign(state.view, state.home); state.apply(); }
    });
    if (data.start && state.nodeEls.has(data.start)) {
      select(state, data.start, details, svg.dataset);
      fitNodes(state, neighbourhood(state, data.start), 40);
    }
    svg.dataset.drawn = String(state.nodeEls.size);
  });
})();
