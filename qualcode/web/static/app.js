/* qualcode web workspace: coding by selection, the coding panel, dragging codes on the theme board.
   Plain JavaScript, no libraries; every change is a POST carrying the page's CSRF token. */
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const notice = document.getElementById("notice");

  function say(message, ok) {
    if (!notice) { return; }
    notice.textContent = message;
    notice.className = "flash " + (ok ? "ok" : "err");
    notice.hidden = false;
    window.scrollTo({top: 0});
  }

  async function act(path, fields) {
    const body = new URLSearchParams(fields);
    body.set("csrf", csrf);
    let res, data;
    try {
      res = await fetch(path, {method: "POST", body: body, credentials: "same-origin",
        headers: {"Accept": "application/json", "X-CSRF-Token": csrf}});
      data = await res.json();
    } catch (e) {
      say("the workspace did not answer (is 'qualcode serve' still running?): " + e, false);
      return false;
    }
    if (!data.ok) { say(data.error || "the act was refused", false); return false; }
    sessionStorage.setItem("qc-flash", data.message);
    window.location.reload();
    return true;
  }

  const flash = sessionStorage.getItem("qc-flash");
  if (flash) { sessionStorage.removeItem("qc-flash"); say(flash, true); window.scrollTo({top: window.scrollY}); }

  // Another program (a CLI command, a second browser tab) changed the project since this page was drawn:
  // say so, once, with a way to reload. Acts made from a stale page are refused anyway.
  const drawnAt = document.body.dataset.asOf;
  if (drawnAt !== undefined) {
    const poll = window.setInterval(async () => {
      if (document.hidden) { return; }
      try {
        const res = await fetch("/as-of", {credentials: "same-origin", headers: {"Accept": "application/json"}});
        const now = await res.json();
        if (now.act > Number(drawnAt)) {
          window.clearInterval(poll);
          const box = document.getElementById("changed");
          box.querySelector("span").textContent = "The project changed since this page was drawn: #" + now.act + " "
            + now.command + " by " + now.actor + (now.summary ? " (" + now.summary + ")" : "") + ".";
          box.hidden = false;
        }
      } catch (e) { window.clearInterval(poll); }
    }, 4000);
  }

  document.querySelectorAll("[data-reload]").forEach(a => a.addEventListener("click", e => {
    e.preventDefault(); window.location.reload();
  }));
  document.querySelectorAll("[data-back]").forEach(a => a.addEventListener("click", e => {
    if (history.length > 1) { e.preventDefault(); history.back(); }
  }));

  // -------------------------------------------------------------- reading view
  const transcript = document.getElementById("transcript");
  if (transcript) { reading(); }

  function json(id) { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; }

  function reading() {
    const codes = json("codes-data") || [];
    const codings = json("codings-data") || {};
    const page = json("page-data") || {};
    const picker = document.getElementById("picker");
    const input = document.getElementById("picker-input");
    const list = document.getElementById("picker-list");
    const panel = document.getElementById("panel");
    let chosen = null, active = 0, shown = [];

    function points(text) { return Array.from(text).length; }  // Python counts code points, not UTF-16 units

    function offsetOf(node, offset) {
      // The source offset of a DOM selection point, and its segment id; null outside the text.
      let span, inner;
      if (node.nodeType === Node.TEXT_NODE) {
        span = node.parentElement.closest("span.p");
        inner = span ? points(node.textContent.slice(0, offset)) : 0;
      } else if (node.classList && node.classList.contains("text")) {
        const kids = node.querySelectorAll("span.p");
        if (offset < kids.length) { span = kids[offset]; inner = 0; }
        else { span = kids[kids.length - 1]; inner = span ? points(span.textContent) : 0; }
      } else {
        span = node.closest ? node.closest("span.p") : null;
        inner = span && offset > 0 ? points(span.textContent) : 0;
      }
      if (!span) { return null; }
      const p = span.closest("p.text");
      return {seg: p.dataset.seg, at: Number(span.dataset.o) + inner};
    }

    function place(el, rect) {
      el.hidden = false;
      const top = window.scrollY + rect.bottom + 6;
      const left = Math.min(window.scrollX + rect.left, window.scrollX + document.documentElement.clientWidth - el.offsetWidth - 12);
      el.style.top = top + "px";
      el.style.left = Math.max(8, left) + "px";
    }

    function mark(range) {  // keep the chosen words visibly selected while the picker has the focus
      if (window.Highlight && window.CSS && CSS.highlights) {
        if (range) { CSS.highlights.set("qc-pick", new Highlight(range)); } else { CSS.highlights.delete("qc-pick"); }
      }
    }

    function closeAll() { picker.hidden = true; panel.hidden = true; chosen = null; mark(null); }

    function render() {
      const q = input.value.trim().toLowerCase();
      shown = codes.filter(c => !q || c.key.toLowerCase().includes(q) || c.name.toLowerCase().includes(q)
                                 || c.theme_name.toLowerCase().includes(q)).slice(0, 40);
      active = Math.min(active, Math.max(shown.length - 1, 0));
      list.replaceChildren(...shown.map((c, i) => {
        const li = document.createElement("li");
        li.setAttribute("role", "option");
        li.dataset.code = c.key;
        if (i === active) { li.className = "active"; }
        const sw = document.createElement("span"); sw.className = "swatch small"; sw.style.background = c.colour;
        const name = document.createElement("span"); name.textContent = c.name;
        const key = document.createElement("span"); key.className = "ck"; key.textContent = c.key;
        li.append(sw, name, key);
        li.addEventListener("mousedown", e => { e.preventDefault(); choose(c.key); });
        return li;
      }));
    }

    function choose(key) {
      if (!chosen) { return; }
      act("/act/code", {segment: chosen.seg, start: chosen.start, end: chosen.end, text: chosen.text, code: key});
      picker.hidden = true;
    }

    transcript.addEventListener("mouseup", () => {
      const sel = window.getSelection();
      if (!sel || sel.isCollapsed || !sel.rangeCount) { return; }
      const a = offsetOf(sel.anchorNode, sel.anchorOffset), b = offsetOf(sel.focusNode, sel.focusOffset);
      if (!a || !b) { return; }
      if (a.seg !== b.seg) { say("select words within one turn: a quote has one speaker.", false); return; }
      const start = Math.min(a.at, b.at), end = Math.max(a.at, b.at);
      const text = sel.toString();
      if (end <= start || !text.trim()) { return; }
      chosen = {seg: a.seg, start: start, end: end, text: text};
      panel.hidden = true;
      document.getElementById("picker-words").textContent = text.trim();
      input.value = ""; active = 0; render();
      mark(sel.getRangeAt(0).cloneRange());
      place(picker, sel.getRangeAt(0).getBoundingClientRect());
      input.focus();
    });

    input.addEventListener("input", () => { active = 0; render(); });
    input.addEventListener("keydown", e => {
      if (e.key === "ArrowDown") { active = Math.min(active + 1, shown.length - 1); render(); e.preventDefault(); }
      else if (e.key === "ArrowUp") { active = Math.max(active - 1, 0); render(); e.preventDefault(); }
      else if (e.key === "Enter") { if (shown[active]) { choose(shown[active].key); } e.preventDefault(); }
      else if (e.key === "Escape") { closeAll(); }
    });
    document.getElementById("picker-cancel").addEventListener("click", closeAll);
    document.getElementById("panel-close").addEventListener("click", closeAll);
    document.addEventListener("keydown", e => { if (e.key === "Escape") { closeAll(); } });

    function openPanel(ids, seg, anchor) {
      const items = ids.map(id => [id, codings[id]]).filter(x => x[1]);
      document.getElementById("panel-list").replaceChildren(...items.map(([id, c]) => {
        const li = document.createElement("li");
        li.style.borderLeftColor = c.colour;
        const head = document.createElement("div");
        const b = document.createElement("b"); b.textContent = c.name;
        const who = document.createElement("span"); who.className = "muted";
        who.textContent = " " + c.code + " · " + c.coder + " (" + c.origin + ")";
        head.append(b, who);
        const q = document.createElement("div"); q.className = "q"; q.textContent = "“" + c.text + "”";
        const row = document.createElement("div"); row.className = "row";
        const rm = document.createElement("button"); rm.type = "button"; rm.className = "small";
        rm.textContent = c.mine ? "remove" : (c.origin === "rule" ? "reject (remove)" : "remove");
        rm.dataset.uncode = id;
        rm.addEventListener("click", () => act("/act/uncode", {coding: id}));
        row.append(rm);
        if (!c.mine) {
          const ok = document.createElement("button"); ok.type = "button"; ok.className = "small ok";
          ok.textContent = "confirm as mine"; ok.dataset.confirm = id;
          ok.addEventListener("click", () => act("/act/confirm", {coding: id}));
          row.append(ok);
        }
        li.append(head, q, row);
        return li;
      }));
      const form = document.getElementById("panel-memo");
      form.elements.target.value = "segment:" + seg;
      form.elements.next.value = page.next + "#seg-" + seg;
      picker.hidden = true;
      place(panel, anchor.getBoundingClientRect());
    }

    transcript.addEventListener("click", e => {
      const sel = window.getSelection();
      if (sel && !sel.isCollapsed) { return; }
      const hit = e.target.closest("span.hl, .chip");
      if (!hit) { return; }
      const seg = hit.closest("section.seg").dataset.seg;
      const ids = hit.dataset.ids ? hit.dataset.ids.split(",") : [hit.dataset.coding];
      openPanel(ids, seg, hit);
    });
    document.addEventListener("mousedown", e => {
      if (!picker.hidden && !picker.contains(e.target)) { picker.hidden = true; mark(null); }
      if (!panel.hidden && !panel.contains(e.target) && !e.target.closest("span.hl, .chip")) { panel.hidden = true; }
    });
  }

  // ---------------------------------------------------------------- theme board
  document.querySelectorAll("form.split-theme").forEach(form => form.addEventListener("submit", () => {
    form.elements.codes.value = Array.from(form.querySelectorAll("input[type=checkbox]:checked")).map(c => c.value).join(",");
  }));

  const board = document.getElementById("board");
  if (board) { dragging(); }

  function dragging() {
    let card = null, ghost = null, over = null, dx = 0, dy = 0;

    function zoneAt(x, y) {
      const el = document.elementFromPoint(x, y);
      return el ? el.closest(".column")?.querySelector(".dropzone") : null;
    }

    board.addEventListener("pointerdown", e => {
      const grip = e.target.closest(".code-card .grip, .code-card .code-title");
      if (!grip || e.button !== 0) { return; }
      card = grip.closest(".code-card");
      const r = card.getBoundingClientRect();
      dx = e.clientX - r.left; dy = e.clientY - r.top;
      ghost = card.cloneNode(true);
      ghost.classList.add("drag-ghost");
      ghost.querySelectorAll("details").forEach(d => d.remove());
      ghost.style.left = r.left + "px"; ghost.style.top = r.top + "px";
      document.body.append(ghost);
      card.classList.add("dragging");
      e.preventDefault();
    });

    document.addEventListener("pointermove", e => {
      if (!card) { return; }
      ghost.style.left = (e.clientX - dx) + "px"; ghost.style.top = (e.clientY - dy) + "px";
      const zone = zoneAt(e.clientX, e.clientY);
      if (zone !== over) { over?.classList.remove("over"); over = zone; over?.classList.add("over"); }
    });

    document.addEventListener("pointerup", e => {
      if (!card) { return; }
      const zone = zoneAt(e.clientX, e.clientY);
      const moving = card;
      ghost.remove(); moving.classList.remove("dragging"); over?.classList.remove("over");
      card = ghost = over = null;
      if (zone && zone.dataset.theme && zone.dataset.theme !== moving.dataset.from) {
        zone.append(moving);
        act("/act/move", {code: moving.dataset.code, theme: zone.dataset.theme, from: moving.dataset.from});
      }
    });
  }
})();
