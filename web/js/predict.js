// Draw a digit (or upload an image) and show the model's answer with every class's probability.
// The image is sent as it is and the drawing as a PNG: the server converts either into what the
// model was trained on (serving/images.py, the one conversion every client gets) and answers
// with that 28×28 input too, which is shown as what the model saw.

import { api, el, jobLabel, percent, query } from "./api.js";

const $ = (id) => document.getElementById(id);
const pad = $("pad");
const ink = pad.getContext("2d");
const models = new Map();
let drawing = null;
let drawn = false; // something was drawn on the pad since it was cleared
let uploaded = null; // the uploaded file the pad shows, which is what a prediction sends
let asked = 0; // the latest question: an answer to an earlier one is dropped

/** A black pad and no answer. */
function blank() {
  ink.fillStyle = "#000";
  ink.fillRect(0, 0, pad.width, pad.height);
  $("seen").getContext("2d").clearRect(0, 0, $("seen").width, $("seen").height);
  $("answer").textContent = "—";
  $("answer-note").textContent = "";
  $("bars").replaceChildren();
  drawn = false;
  uploaded = null;
}

function clear() {
  blank();
  $("upload").value = ""; // so that choosing the same file again asks again
}

function point(event) {
  const box = pad.getBoundingClientRect();
  return [
    ((event.clientX - box.left) * pad.width) / box.width,
    ((event.clientY - box.top) * pad.height) / box.height,
  ];
}

pad.addEventListener("pointerdown", (event) => {
  if (uploaded) clear(); // drawing starts afresh rather than on top of a photo
  pad.setPointerCapture(event.pointerId);
  drawing = point(event);
  drawn = true;
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

/** What to send: the uploaded file, or the pad as a PNG (white strokes on black). */
async function picture() {
  if (uploaded) return [uploaded, uploaded.name];
  if (!drawn) return null;
  const png = await new Promise((resolve) => pad.toBlob(resolve, "image/png"));
  return [png, "drawing.png"];
}

async function predict() {
  const modelId = $("model").value;
  if (!modelId) {
    $("answer-note").textContent = "There is no model to ask yet: train one on the Train page first.";
    return;
  }
  const question = ++asked;
  const file = await picture();
  if (!file) {
    $("answer-note").textContent = "The pad is empty: draw something first.";
    return;
  }
  const form = new FormData();
  form.append("file", ...file);
  $("answer-note").textContent = "Asking…";
  try {
    const answer = await api(`v1/models/${encodeURIComponent(modelId)}/predict?include_input=true`, {
      method: "POST",
      body: form,
    });
    if (question !== asked) return;
    const [prediction] = answer.predictions;
    seen(prediction.input);
    show(prediction, models.get(answer.model_id)); // a name answers with the id it resolved
  } catch (error) {
    if (question !== asked) return;
    $("answer").textContent = "—";
    $("answer-note").textContent = error.message;
  }
}

/** The input the server gave the model: rows of grey levels 0-255. */
function seen(rows) {
  const [height, width] = [rows.length, rows[0].length];
  const canvas = $("seen");
  [canvas.width, canvas.height] = [width, height];
  const image = new ImageData(width, height);
  rows.flat().forEach((v, i) => image.data.set([v, v, v, 255], 4 * i));
  canvas.getContext("2d").putImageData(image, 0, 0);
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
  const [list, registry] = await Promise.all([
    api("v1/models?limit=200"),
    api("v1/registry?limit=200").catch(() => ({ items: [] })),
  ]);
  for (const model of list.items) models.set(model.id, model);
  // Registered names: NAME serves its latest version, NAME@ALIAS the version the alias points
  // at when the question is asked. ?model= takes an id, NAME or NAME@ALIAS.
  const refs = registry.items.flatMap((named) => [
    [named.name, `${named.name} (latest: version ${named.latest_version})`],
    ...Object.entries(named.aliases).map(([alias, version]) => [
      `${named.name}@${alias}`,
      `${named.name}@${alias} (version ${version})`,
    ]),
  ]);
  const wanted = query("model");
  if (wanted && !models.has(wanted) && !refs.some(([ref]) => ref === wanted)) {
    refs.push([wanted, wanted]);
  }
  const option = ([value, label]) => el("option", { value, selected: value === wanted }, label);
  $("model").replaceChildren(
    ...(list.items.length ? [] : [el("option", { value: "" }, "no trained model yet")]),
    ...list.items.map((model) =>
      option([
        model.id,
        `${jobLabel(model.job)} — ${model.dataset}, validation accuracy ${percent(model.metrics.val_accuracy)}`,
      ]),
    ),
    ...(refs.length ? [el("optgroup", { label: "By name" }, ...refs.map(option))] : []),
  );
  describe();
}

function describe() {
  const value = $("model").value;
  const model = models.get(value);
  $("model-note").textContent = model
    ? `Answers ${model.class_names.length} classes: ${model.class_names.join(" ")}.`
    : value
      ? `The registered name ${value}: the version it points at answers.`
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
  blank();
  uploaded = file;
  try {
    // Shown on the pad for the eye only: the file itself is what is sent.
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(pad.width / bitmap.width, pad.height / bitmap.height);
    const [w, h] = [bitmap.width * scale, bitmap.height * scale];
    ink.drawImage(bitmap, (pad.width - w) / 2, (pad.height - h) / 2, w, h);
  } catch {
    // not an image the browser can show: the server's answer says what is wrong with it
  }
  predict();
});

clear();
loadModels().catch((error) => {
  $("model-note").textContent = `Could not load models: ${error.message}`;
});
