() => {
  const box = document.getElementById("viewer").getBoundingClientRect();
  const words = [];
  const inside = (fr, rc) => rc.width > 0 && rc.height > 0 &&
      rc.left + fr.left < box.right && rc.right + fr.left > box.left &&
      rc.top + fr.top < box.bottom && rc.bottom + fr.top > box.top;
  for (const iframe of document.querySelectorAll("#viewer iframe")) {
    const fr = iframe.getBoundingClientRect();
    const doc = iframe.contentDocument;
    if (!doc || !doc.body) continue;
    const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
    const range = doc.createRange();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const text = n.nodeValue;
      if (!text.trim()) continue;
      range.selectNodeContents(n);
      const rects = Array.from(range.getClientRects());
      const vis = rects.map((rc) => inside(fr, rc));
      if (!vis.some(Boolean)) continue;
      if (vis.every(Boolean)) { words.push(text.trim()); continue; }
      const re = /\S+/g; let m;
      while ((m = re.exec(text))) {
        range.setStart(n, m.index); range.setEnd(n, m.index + m[0].length);
        if (Array.from(range.getClientRects()).some((rc) => inside(fr, rc))) words.push(m[0]);
      }
    }
  }
  return words.join(" ").replace(/\s+/g, " ").trim();
}
