// Scanning: a keyboard-wedge scanner types the code and Enter into the focused scan field
// (a burst of keys ending in Enter is one scan); the camera is the fallback, with
// @zxing/browser served by our own server.
const VENDOR = ["/static/vendor/zxing-library.min.js", "/static/vendor/zxing-browser.min.js"];

export class Scanner {
  constructor({ form, input, onScan }) {
    this.form = form;
    this.input = input;
    this.onScan = onScan;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const code = input.value.trim();
      input.value = "";
      if (code) onScan(code);
    });
    // The scan field keeps the focus unless the picker is typing somewhere else.
    input.addEventListener("blur", () => setTimeout(() => this.focus(), 0));
    document.addEventListener("keydown", (event) => {
      if (!this.typingElsewhere() && document.activeElement !== input && event.key.length === 1) this.focus();
    }, true);
    document.addEventListener("click", () => setTimeout(() => this.focus(), 0));
  }

  typingElsewhere() {
    const active = document.activeElement;
    return Boolean(active && active !== this.input && active.matches("input, textarea, select"));
  }

  focus() {
    if (!this.typingElsewhere() && !this.form.hidden) this.input.focus({ preventScroll: true });
  }

  async startCamera(video, box) {
    for (const src of VENDOR) await loadScript(src);
    const reader = new window.ZXingBrowser.BrowserMultiFormatReader();
    box.hidden = false;
    this.camera = await reader.decodeFromVideoDevice(undefined, video, (result, _error, controls) => {
      if (result) {
        controls.stop();
        box.hidden = true;
        this.camera = null;
        this.onScan(result.getText());
      }
    });
  }

  stopCamera(box) {
    this.camera?.stop();
    this.camera = null;
    box.hidden = true;
  }
}

function loadScript(src) {
  if (document.querySelector(`script[src="${src}"]`)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = reject;
    document.head.append(script);
  });
}
