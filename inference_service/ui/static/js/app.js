// The admin page's shell: sign-in when the service asks for a key, the navigation, and one view
// per hash route (#/endpoints, #/endpoints/new, #/endpoints/edit/ID, #/playground/ID, #/usage,
// #/keys). Every view talks to the public API only (api.js).

import { call, setApiKey, apiKey } from "./api.js";
import { h, clear, field, status } from "./dom.js";
import { endpointsView } from "./endpoints.js";
import { formView } from "./form.js";
import { playgroundView } from "./playground.js";
import { usageView } from "./usage.js";
import { keysView } from "./keys.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOut = document.getElementById("sign-out");

async function whoAmI() {
  try {
    return await call("GET", "/_security/_authenticate", undefined, { silent: true });
  } catch (error) {
    if (error.status === 401) return null;
    throw error;
  }
}

function signInView(message) {
  nav.hidden = true;
  const input = h("input", { type: "password", name: "api-key", autocomplete: "off", required: true, spellcheck: "false" });
  const keyField = field("API key", input, { help: "The encoded key (as in “Authorization: ApiKey …”). Kept in this tab only.", required: true });
  const form = h(
    "form",
    { class: "card narrow", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title" }, "Sign in"),
    message ? status(message, "error") : null,
    keyField,
    h("button", { type: "submit" }, "Sign in"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setApiKey(input.value.trim());
    const me = await whoAmI().catch(() => null);
    if (!me) {
      setApiKey(null);
      keyField.showError("The service refused this key.");
      input.focus();
      return;
    }
    await start(me);
  });
  clear(main, form);
  input.focus();
}

async function start(me) {
  nav.hidden = false;
  signOut.hidden = !apiKey();
  const name = me?.api_key?.name || me?.username;
  who.textContent = name ? `Signed in as ${name}` : "";
  if (!location.hash || location.hash === "#" || location.hash === "#/") location.hash = "#/endpoints";
  else await route();
}

async function route() {
  if (nav.hidden) return;
  const [, section = "endpoints", ...rest] = location.hash.replace(/^#/, "").split("/");
  const arg = rest.map(decodeURIComponent).join("/");
  for (const link of nav.querySelectorAll("a")) {
    if (link.getAttribute("href") === `#/${section}`) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const view = h("div", { class: "view" });
  clear(main, view);
  try {
    if (section === "endpoints" && rest[0] === "new") await formView(view, null);
    else if (section === "endpoints" && rest[0] === "edit") await formView(view, rest.slice(1).map(decodeURIComponent).join("/"));
    else if (section === "endpoints") await endpointsView(view);
    else if (section === "playground") await playgroundView(view, arg);
    else if (section === "usage") await usageView(view);
    else if (section === "keys") await keysView(view);
    else clear(view, h("h2", {}, "Not found"), h("p", {}, h("a", { href: "#/endpoints" }, "Back to the endpoints")));
  } catch (error) {
    if (error.status === 401) return;
    view.append(status(error.message, "error"));
  }
  const heading = main.querySelector("h2");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

window.addEventListener("hashchange", route);
window.addEventListener("unauthorized", () => {
  const had = Boolean(apiKey());
  setApiKey(null);
  signInView(had ? "Your key is no longer accepted: sign in again." : "This service needs an API key.");
});
signOut.addEventListener("click", () => {
  setApiKey(null);
  who.textContent = "";
  signInView("Signed out.");
});

(async () => {
  const me = await whoAmI().catch((error) => {
    clear(main, status(`The service did not answer: ${error.message}`, "error"));
    return undefined;
  });
  if (me === null) signInView();
  else if (me !== undefined) await start(me);
})();
