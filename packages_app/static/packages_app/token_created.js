// The page with a new token's secret is the answer to the add form's POST (the secret is
// kept nowhere to be shown later). Replacing its history entry makes a reload ask for the
// empty form (a GET) instead of posting the form again and making a second token.
"use strict";
window.history.replaceState(null, "", window.location.href);
const newToken = document.getElementById("new-token");
newToken.addEventListener("click", () => newToken.select());
