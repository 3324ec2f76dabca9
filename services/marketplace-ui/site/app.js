// Lists the published packs from the marketplace api (same origin, /api).
fetch("/api/v1/packs")
  .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
  .then(({ packs }) => {
    const body = document.querySelector("#packs tbody");
    for (const p of packs) {
      const row = body.insertRow();
      for (const v of [p.pack, p.version, p.licenseId, p.publisher, p.access]) {
        row.insertCell().textContent = v;
      }
    }
    document.getElementById("packs").hidden = false;
    document.getElementById("status").textContent = packs.length + " published pack versions";
  })
  .catch((e) => {
    document.getElementById("status").textContent = "The catalogue is unavailable (" + e.message + "); try again shortly.";
  });
