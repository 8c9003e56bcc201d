() => {
  const OPS = "http://www.idpf.org/2007/ops";
  for (const iframe of document.querySelectorAll("#viewer iframe")) {
    const doc = iframe.contentDocument;
    if (!doc) continue;
    for (const a of doc.querySelectorAll("a")) {
      const types = ((a.getAttribute("epub:type") || a.getAttributeNS(OPS, "type") || "") + " " +
                     (a.getAttribute("role") || "")).split(/\s+/);
      if (!types.includes("noteref") && !types.includes("doc-noteref")) continue;
      const fr = iframe.getBoundingClientRect();
      const rc = a.getClientRects()[0];
      if (!rc) return {found: true, clickable: false, href: a.getAttribute("href"), text: a.textContent};
      return {found: true, clickable: true, href: a.getAttribute("href"), text: a.textContent.trim(),
              x: fr.left + rc.left + rc.width / 2, y: fr.top + rc.top + rc.height / 2};
    }
  }
  return {found: false};
}
