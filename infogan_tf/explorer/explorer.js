"use strict";
// The latent explorer. Every image comes from TF Serving's REST predict API
// (POST /v1/models/<name>[/versions/<N>]:predict), so the page works the same against
// `python -m infogan_tf.explore` and against a real TF Serving behind it (--backend).

const NOISE_ROWS = 4;  // noise samples in a traversal, one per row, as in the paper's figures
const CONTINUOUS_STEPS = 9;  // a continuous code's traversal: the spec's range (-2..2) in 9 steps

const state = { config: null, spec: null, z: null, categorical: [], continuous: [], focus: null };
const errors = {};  // what failed, by source ("noise", "image", "traversal"); shown until it works again
const $ = (id) => document.getElementById(id);

function predictUrl() {
  const config = state.config;
  const version = config.pinned_version ? `/versions/${config.version}` : "";
  return `/v1/models/${encodeURIComponent(config.model_name)}${version}:predict`;
}

async function predict(signature, inputs) {
  const response = await fetch(predictUrl(), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ signature_name: signature, inputs }),
  });
  let body = null;
  try {
    body = await response.json();
  } catch (e) {
    throw new Error(`the server answered ${response.status} ${response.statusText} without a JSON body`);
  }
  if (!response.ok || body.error) {
    throw new Error(`the server answered ${response.status}: ${body.error || response.statusText}`);
  }
  return body.outputs;
}

function report(source, error) {
  if (error) errors[source] = error.message; else delete errors[source];
  const box = $("error");
  const messages = Object.entries(errors).map(([where, message]) => `Could not update the ${where}: ${message}`);
  box.textContent = messages.join("\n");
  box.hidden = messages.length === 0;
}

// Runs `job` at most once at a time, `delay` ms after the last request; a request made while it runs
// runs it once more afterwards, so the last setting always gets drawn and requests never pile up.
// "Rendering…" shows while any job is waiting or running.
const active = new Set();
function scheduler(source, job, delay) {
  let timer = null, running = false, again = false;
  async function run() {
    timer = null;
    if (running) { again = true; return; }
    running = true;
    try { await job(); report(source, null); } catch (error) { report(source, error); }
    running = false;
    if (again) { again = false; run(); return; }
    if (timer === null) active.delete(source);
    $("status").textContent = active.size ? "Rendering…" : "";
  }
  return () => {
    active.add(source);
    $("status").textContent = "Rendering…";
    clearTimeout(timer);
    timer = setTimeout(run, delay);
  };
}

function draw(canvas, pixels) {  // pixels: [H][W][C] uint8, C = 1 or 3
  const height = pixels.length, width = pixels[0].length, gray = pixels[0][0].length === 1;
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  let i = 0;
  for (const row of pixels) {
    for (const p of row) {
      image.data[i] = p[0];
      image.data[i + 1] = gray ? p[0] : p[1];
      image.data[i + 2] = gray ? p[0] : p[2];
      image.data[i + 3] = 255;
      i += 4;
    }
  }
  context.putImageData(image, 0, 0);
}

function noiseRows() { return state.spec.noise_dim > 0 ? NOISE_ROWS : 1; }

// The serving_default inputs for latents given as {noise, categorical, continuous}; an input the
// model does not have (no noise, no categorical or no continuous code) is left out, as export does.
function latentInputs(latents) {
  const spec = state.spec, inputs = {};
  if (spec.noise_dim > 0) inputs.z = latents.map((l) => state.z[l.noise]);
  if (spec.categorical.length > 0) inputs.categorical = latents.map((l) => l.categorical);
  if (spec.continuous > 0) inputs.continuous = latents.map((l) => l.continuous);
  return inputs;
}

function current(noise) {
  return { noise, categorical: [...state.categorical], continuous: [...state.continuous] };
}

async function loadNoise() {
  const seed = Number.parseInt($("seed").value, 10);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error("the noise seed must be a whole number ≥ 0");
  if (state.spec.noise_dim > 0) {
    state.z = (await predict("generate_from_seed", { seed, num: noiseRows() })).z;
  }
}

function noiseReady() { return state.spec.noise_dim === 0 || state.z !== null; }

async function renderImage() {
  if (!noiseReady()) return;  // loading the noise renders it next
  const outputs = await predict("serving_default", latentInputs([current(0)]));
  draw($("image"), outputs.images_uint8[0]);
  document.body.dataset.imageRenders = Number(document.body.dataset.imageRenders || 0) + 1;
}

function traversalValues() {
  const focus = state.focus;
  if (focus.kind === "categorical") return [...Array(state.spec.categorical[focus.index]).keys()];
  const [low, high] = state.spec.traversal_range;
  return [...Array(CONTINUOUS_STEPS).keys()].map((i) => low + ((high - low) * i) / (CONTINUOUS_STEPS - 1));
}

async function renderTraversal() {
  if (!state.focus || !noiseReady()) return;
  const focus = state.focus, values = traversalValues(), latents = [];
  for (let row = 0; row < noiseRows(); row++) {
    for (const value of values) {
      const latent = current(row);
      latent[focus.kind][focus.index] = value;
      latents.push(latent);
    }
  }
  const images = (await predict("serving_default", latentInputs(latents))).images_uint8;
  const now = state[focus.kind][focus.index];
  const nearest = values.reduce((best, v, i) => (Math.abs(v - now) < Math.abs(values[best] - now) ? i : best), 0);
  const cells = values.map((v) => {
    const label = document.createElement("div");
    label.className = "label";
    label.textContent = focus.kind === "categorical" ? String(v) : v.toFixed(1);
    return label;
  });
  images.forEach((pixels, i) => {
    const canvas = document.createElement("canvas");
    draw(canvas, pixels);
    if (i % values.length === nearest) canvas.classList.add("current");
    cells.push(canvas);
  });
  const strip = $("strip");
  strip.style.gridTemplateColumns = `repeat(${values.length}, 64px)`;
  strip.replaceChildren(...cells);
  $("traversal-title").textContent = `Traversal of ${codeName(focus)}: ${values.length} values × ${noiseRows()} noise samples`;
  document.body.dataset.traversalRenders = Number(document.body.dataset.traversalRenders || 0) + 1;
}

function codeName(focus) {
  return focus.kind === "categorical"
    ? `cat${focus.index} (${state.spec.categorical[focus.index]} categories)`
    : `cont${focus.index} (${state.spec.traversal_range[0]}..${state.spec.traversal_range[1]})`;
}

const scheduleImage = scheduler("image", renderImage, 30);
const scheduleTraversal = scheduler("traversal", renderTraversal, 200);
const scheduleNoise = scheduler("noise", async () => {
  await loadNoise();
  scheduleImage();
  scheduleTraversal();
}, 0);

function setFocus(focus) {
  if (state.focus && state.focus.kind === focus.kind && state.focus.index === focus.index) return;
  state.focus = focus;
  document.querySelectorAll(".control.focused").forEach((element) => element.classList.remove("focused"));
  $(`code-${focus.kind}-${focus.index}`).classList.add("focused");
  scheduleTraversal();
}

function addControl(focus, build) {
  const row = document.createElement("div");
  row.className = "control";
  row.id = `code-${focus.kind}-${focus.index}`;
  const label = document.createElement("label");
  label.textContent = focus.kind === "categorical" ? `cat${focus.index}` : `cont${focus.index}`;
  row.append(label, ...build(label));
  row.addEventListener("mouseenter", () => setFocus(focus));
  row.addEventListener("focusin", () => setFocus(focus));
  $("codes").append(row);
}

function buildControls() {
  const spec = state.spec;
  spec.categorical.forEach((k, index) => {
    state.categorical.push(0);
    addControl({ kind: "categorical", index }, (label) => {
      const select = document.createElement("select");
      select.id = label.htmlFor = `cat${index}`;
      for (let c = 0; c < k; c++) select.add(new Option(String(c), String(c)));
      const count = document.createElement("output");
      count.textContent = `of ${k}`;
      select.addEventListener("change", () => {
        state.categorical[index] = Number(select.value);
        setFocus({ kind: "categorical", index });
        scheduleImage();
        scheduleTraversal();
      });
      return [select, count];
    });
  });
  const [low, high] = spec.traversal_range;
  for (let index = 0; index < spec.continuous; index++) {
    state.continuous.push(0);
    addControl({ kind: "continuous", index }, (label) => {
      const slider = Object.assign(document.createElement("input"), { type: "range", min: low, max: high, step: 0.05, value: 0 });
      slider.id = label.htmlFor = `cont${index}`;
      const value = document.createElement("output");
      value.textContent = "0.00";
      slider.addEventListener("input", () => {
        state.continuous[index] = Number(slider.value);
        value.textContent = Number(slider.value).toFixed(2);
        setFocus({ kind: "continuous", index });
        scheduleImage();
        scheduleTraversal();
      });
      return [slider, value];
    });
  }
  if (spec.categorical.length) setFocus({ kind: "categorical", index: 0 });
  else if (spec.continuous) setFocus({ kind: "continuous", index: 0 });
}

async function describeModel() {
  const { config, spec } = state;
  const codes = [
    `noise ${spec.noise_dim}`,
    ...spec.categorical.map((k) => `Cat(${k})`),
    spec.continuous ? `${spec.continuous} continuous` : null,
  ].filter(Boolean);
  let version = `version ${config.version}`, where = `SavedModel ${config.saved_model}`;
  if (config.backend) {
    where = `TF Serving at ${config.backend}`;
    try {
      const path = `/v1/models/${encodeURIComponent(config.model_name)}`;
      const status = await (await fetch(path)).json();
      version = `version ${status.model_version_status[0].version} (served)`;
    } catch (e) {
      version = `version unknown (TF Serving did not answer its status)`;
    }
  }
  $("model").textContent = `${config.model_name}, ${version}: ${spec.dataset}, ${spec.image_shape.join("×")} images, ` +
    `${codes.join(" + ")}; ${where}`;
  $("spec").textContent = JSON.stringify(spec, null, 2);
}

async function start() {
  try {
    const response = await fetch("/explorer/config.json");
    if (!response.ok) throw new Error(`/explorer/config.json answered ${response.status}`);
    state.config = await response.json();
  } catch (error) {
    report("page", error);
    return;
  }
  state.spec = state.config.spec;
  buildControls();
  $("seed").addEventListener("change", scheduleNoise);
  $("new-sample").addEventListener("click", () => {
    $("seed").value = String(Math.floor(Math.random() * 2 ** 31));
    scheduleNoise();
  });
  await describeModel();
  scheduleNoise();
}

window.explorer = { state, errors };
start();
