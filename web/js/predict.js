// Draw a digit (or upload an image), turn it into the 28×28 grey image the model was trained
// on, and show the model's answer with every class's probability.

import { api, el, jobLabel, percent, query } from "./api.js";

const $ = (id) => document.getElementById(id);
const SIZE = 28;
const pad = $("pad");
const ink = pad.getContext("2d", { willReadFrequently: true });
const models = new Map();
let drawing = null;

function clear() {
  ink.fillStyle = "#000";
  ink.fillRect(0, 0, pad.width, pad.height);
  $("seen").getContext("2d").clearRect(0, 0, SIZE, SIZE);
  $("answer").textContent = "—";
  $("answer-note").textContent = "";
  $("bars").replaceChildren();
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * pad.width) / box.width,
    ((event.clientY - box.top) * pad.height) / box.height,
  ];
}

pad.addEventListener("pointerdown", (event) => {
  pad.setPointerCapture(event.pointerId);
  drawing = point(event);
  ink.fillStyle = "#fff";
  ink.beginPath();
  ink.arc(drawing[0], drawing[1], 11, 0, 2 * Math.PI);
  ink.fill();
});
pad.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const next = point(event);
  ink.strokeStyle = "#fff";
  ink.lineWidth = 22;
  ink.lineCap = "round";
  ink.lineJoin = "round";
  ink.beginPath();
  ink.moveTo(...drawing);
  ink.lineTo(...next);
  ink.stroke();
  drawing = next;
});
for (const end of ["pointerup", "pointercancel"]) {
  pad.addEventListener(end, () => {
    if (!drawing) return;
    drawing = null;
    predict();
  });
}

/** The pad as grey levels 0-255, white ink on black, inverted if asked. */
function grey() {
  const { data } = ink.getImageData(0, 0, pad.width, pad.height);
  const out = new Float32Array(pad.width * pad.height);
  const invert = $("invert").checked;
  for (let i = 0; i < out.length; i++) {
    const level = 0.299 * data[4 * i] + 0.587 * data[4 * i + 1] + 0.114 * data[4 * i + 2];
    out[i] = invert ? 255 - level : level;
  }
  return out;
}

function toCanvas(levels, width, height) {
  const canvas = el("canvas", { width, height });
  const image = new ImageData(width, height);
  levels.forEach((v, i) => {
    image.data.set([v, v, v, 255], 4 * i);
  });
  canvas.getContext("2d").putImageData(image, 0, 0);
  return canvas;
}

/** MNIST's recipe: fit the strokes' box into 20×20, then move their centre of mass to the middle. */
function centred(levels) {
  const w = pad.width;
  let [left, top, right, bottom] = [w, w, -1, -1];
  levels.forEach((v, i) => {
    if (v < 32) return;
    const [x, y] = [i % w, Math.floor(i / w)];
    [left, top, right, bottom] = [
      Math.min(left, x),
      Math.min(top, y),
      Math.max(right, x),
      Math.max(bottom, y),
    ];
  });
  if (right < 0) return null;
  const [bw, bh] = [right - left + 1, bottom - top + 1];
  const scale = 20 / Math.max(bw, bh);
  const [sw, sh] = [Math.max(1, Math.round(bw * scale)), Math.max(1, Math.round(bh * scale))];
  const small = el("canvas", { width: SIZE, height: SIZE });
  const context = small.getContext("2d", { willReadFrequently: true });
  context.fillStyle = "#000";
  context.fillRect(0, 0, SIZE, SIZE);
  context.imageSmoothingQuality = "high";
  context.drawImage(
    toCanvas(levels, w, pad.height),
    left,
    top,
    bw,
    bh,
    (SIZE - sw) / 2,
    (SIZE - sh) / 2,
    sw,
    sh,
  );
  const { data } = context.getImageData(0, 0, SIZE, SIZE);
  const boxed = Array.from({ length: SIZE * SIZE }, (_, i) => data[4 * i]);
  let [mass, mx, my] = [0, 0, 0];
  boxed.forEach((v, i) => {
    mass += v;
    mx += v * (i % SIZE);
    my += v * Math.floor(i / SIZE);
  });
  const [dx, dy] = [Math.round((SIZE - 1) / 2 - mx / mass), Math.round((SIZE - 1) / 2 - my / mass)];
  const out = new Array(SIZE * SIZE).fill(0);
  boxed.forEach((v, i) => {
    const [x, y] = [(i % SIZE) + dx, Math.floor(i / SIZE) + dy];
    if (x >= 0 && x < SIZE && y >= 0 && y < SIZE) out[y * SIZE + x] = v;
  });
  return out;
}

function resized(levels) {
  const small = el("canvas", { width: SIZE, height: SIZE });
  const context = small.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingQuality = "high";
  context.drawImage(toCanvas(levels, pad.width, pad.height), 0, 0, SIZE, SIZE);
  const { data } = context.getImageData(0, 0, SIZE, SIZE);
  return Array.from({ length: SIZE * SIZE }, (_, i) => data[4 * i]);
}

async function predict() {
  const modelId = $("model").value;
  if (!modelId) {
    $("answer-note").textContent = "There is no model to ask yet: train one on the Train page first.";
    return;
  }
  const levels = grey();
  const pixels = $("centre").checked ? centred(levels) : resized(levels);
  if (!pixels) {
    $("answer-note").textContent = "The pad is empty: draw something first.";
    return;
  }
  const rounded = pixels.map((v) => Math.max(0, Math.min(255, Math.round(v))));
  $("seen")
    .getContext("2d")
    .putImageData(
      new ImageData(new Uint8ClampedArray(rounded.flatMap((v) => [v, v, v, 255])), SIZE, SIZE),
      0,
      0,
    );
  const instance = Array.from({ length: SIZE }, (_, row) => rounded.slice(row * SIZE, (row + 1) * SIZE));
  $("answer-note").textContent = "Asking…";
  try {
    const answer = await api(`v1/models/${encodeURIComponent(modelId)}/predict`, {
      method: "POST",
      body: { instances: [instance] },
    });
    show(answer.predictions[0], models.get(modelId));
  } catch (error) {
    $("answer").textContent = "—";
    $("answer-note").textContent = error.message;
  }
}

function show(prediction, model) {
  $("answer").textContent = prediction.label;
  const top = prediction.probabilities[prediction.class_index];
  $("answer-note").textContent = `${percent(top)} sure; every class's probability below (they sum to 100%).`;
  $("bars").replaceChildren(
    ...prediction.probabilities.map((p, i) =>
      el(
        "li",
        { class: i === prediction.class_index ? "top" : null },
        el("span", {}, model.class_names[i]),
        el(
          "span",
          { class: "bar", "aria-hidden": "true" },
          el("span", { style: `width:${(p * 100).toFixed(1)}%` }),
        ),
        el("span", { class: "num" }, percent(p)),
      ),
    ),
  );
}

async function loadModels() {
  const [list, jobs] = await Promise.all([api("v1/models?limit=200"), api("v1/jobs?limit=200")]);
  const names = new Map(jobs.items.map((job) => [job.id, jobLabel(job)]));
  for (const model of list.items) models.set(model.id, model);
  const wanted = query("model");
  $("model").replaceChildren(
    ...(list.items.length ? [] : [el("option", { value: "" }, "no trained model yet")]),
    ...list.items.map((model) =>
      el(
        "option",
        { value: model.id, selected: model.id === wanted },
        `${names.get(model.id) || model.id.slice(0, 8)} — ${model.dataset}, validation accuracy ${percent(model.metrics.val_accuracy)}`,
      ),
    ),
  );
  describe();
}

function describe() {
  const model = models.get($("model").value);
  $("model-note").textContent = model
    ? `Answers ${model.class_names.length} classes: ${model.class_names.join(" ")}.`
    : "";
}

$("model").addEventListener("change", () => {
  describe();
  $("bars").replaceChildren();
  $("answer").textContent = "—";
});
$("clear").addEventListener("click", clear);
$("predict").addEventListener("click", predict);
$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  const bitmap = await createImageBitmap(file);
  const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
  const [w, h] = [bitmap.width * scale, bitmap.height * scale];
  clear();
  ink.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  $("centre").checked = false; // a photo is shrunk whole, as the data set's images were
  predict();
});

clear();
loadModels().catch((error) => {
  $("model-note").textContent = `Could not load models: ${error.message}`;
});
