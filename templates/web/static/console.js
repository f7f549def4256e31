// The staff console's only script: live updates and the Mini App login. No libraries.
"use strict";

// Pages marked data-live refresh their #live region (never the filter form someone may be
// typing in) whenever tickets change; the rest of the page stays as it is.
function startLive() {
  if (!document.body.dataset.live || !window.EventSource) return;
  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin" });
      if (response.ok) {
        const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
        const incoming = fresh.getElementById("live"), current = document.getElementById("live");
        if (incoming && current && incoming.innerHTML !== current.innerHTML) {
          current.innerHTML = incoming.innerHTML;
        }
      }
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }
  const events = new EventSource("/events");
  events.addEventListener("change", refresh);
}

// Inside Telegram the Mini App's launch parameters arrive in the address's fragment
// (tgWebAppData=…); the server checks their signature and answers with a session cookie.
async function startMiniApp() {
  const box = document.getElementById("mini-app");
  if (!box) return;
  tellTelegram("web_app_ready");
  const launch = new URLSearchParams(window.location.hash.slice(1));
  const initData = launch.get("tgWebAppData") ||
    (window.Telegram && window.Telegram.WebApp && window.Telegram.WebApp.initData) || "";
  const body = new URLSearchParams({ init_data: initData, _xsrf: box.dataset.xsrf });
  const response = await fetch("/auth/webapp", { method: "POST", body, credentials: "same-origin" });
  if (response.ok) {
    window.location.replace("/");
  } else {
    document.getElementById("app-status").hidden = true;
    document.getElementById("app-failed").hidden = false;
  }
}

// Telegram's Mini App events, posted the way its clients listen for them (no SDK to load):
// "web_app_ready" takes away Telegram's loading placeholder.
function tellTelegram(eventType) {
  const data = JSON.stringify({ eventType, eventData: {} });
  if (window.TelegramWebviewProxy) {
    window.TelegramWebviewProxy.postEvent(eventType, "{}");
  } else if (window.external && "notify" in window.external) {
    window.external.notify(data);
  } else if (window.parent !== window) {
    window.parent.postMessage(data, "https://web.telegram.org");
  }
}

document.addEventListener("DOMContentLoaded", () => { startLive(); startMiniApp(); });
