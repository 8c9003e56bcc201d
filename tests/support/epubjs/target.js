(id) => {
  const box = document.getElementById("viewer").getBoundingClientRect();
  for (const iframe of document.querySelectorAll("#viewer iframe")) {
    const doc = iframe.contentDocument;
    const el = doc && doc.getElementById(id);
    if (!el) continue;
    const fr = iframe.getBoundingClientRect();
    const rc = el.getBoundingClientRect();
    const left = fr.left + rc.left, top = fr.top + rc.top;
    const visible = rc.width > 0 && rc.height > 0 && left < box.right && left + rc.width > box.left &&
                    top < box.bottom && top + rc.height > box.top;
    return {found: true, visible: visible, text: el.textContent.replace(/\s+/g, " ").trim()};
  }
  return {found: false, visible: false, text: ""};
}
