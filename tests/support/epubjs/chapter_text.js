() => Array.from(document.querySelectorAll("#viewer iframe"))
  .map((f) => f.contentDocument && f.contentDocument.body ? f.contentDocument.body.textContent : "")
  .join(" ").replace(/\s+/g, " ").trim()
