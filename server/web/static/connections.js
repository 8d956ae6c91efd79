// The connections page (平台对接): a step that stops a shop asks first; choosing another shop in
// the connect form brings that shop's stored settings (never its secrets) into the form, unless
// something secret has been typed already.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}
const connect = document.getElementById("connect-form");
if (connect) {
  connect.shop.addEventListener("change", () => {
    if (connect.secret.value || connect.session.value || !connect.shop.value) return;
    window.location = "?shop=" + encodeURIComponent(connect.shop.value) + "#connect";
  });
}
