// The purchasing pages: the PO file picker shows its button and the chosen file's name in the
// page's language (the browser's own file field speaks the browser's language, not the page's).
for (const picker of document.querySelectorAll(".file-pick")) {
  const input = picker.querySelector("input[type=file]");
  const name = picker.querySelector(".file-name");
  const show = () => { name.textContent = input.files.length ? input.files[0].name : name.dataset.none; };
  input.addEventListener("change", show);
  show();
}
