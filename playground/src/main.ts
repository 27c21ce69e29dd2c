/**
 * The playground page: reads the controls, draws the grids the geometry predicts, asks the
 * service's own /v1 endpoint for the values, and highlights what each pixel touches.
 * `document.body.dataset.state` is `loading` while an answer is awaited, then `ready` or
 * `error` (the browser test waits on it).
 */
import { type Answer, curlFor, type Problem, requestFor, send } from './api.js';
import { scaleStops } from './colors.js';
import { Grid, legend } from './draw.js';
import { describeTouches, explanations, hoverHint, sizeFormulas } from './explain.js';
import {
  type Cell,
  columnOf,
  type Geometry,
  geometry,
  isValidSize,
  OPS,
  type Op,
  pixelWindows,
  rowOfTap,
  type Settings,
  windowOfColumn,
  windowPixels,
} from './geometry.js';
import { columnsGrid, imageGrid, kernelGrid, windowGrid } from './layout.js';
import { fill, isPreset, type Preset } from './values.js';

const $ = <T extends Element = HTMLElement>(selector: string): T => {
  const found = document.querySelector<T>(selector);
  if (!found) throw new Error(`the page has no ${selector}`);
  return found;
};

const form = $<HTMLFormElement>('#controls');
const NUMBER_FIELDS = [
  'height',
  'width',
  'kernelHeight',
  'kernelWidth',
  'stride',
  'padding',
  'outputPadding',
  'dilation',
] as const;
type NumberField = (typeof NUMBER_FIELDS)[number];

/** Short names for the link that reproduces a setting. */
const HASH_KEYS: Record<NumberField | 'op' | 'inputValues' | 'kernelValues', string> = {
  op: 'op',
  height: 'h',
  width: 'w',
  kernelHeight: 'kh',
  kernelWidth: 'kw',
  stride: 's',
  padding: 'p',
  outputPadding: 'a',
  dilation: 'd',
  inputValues: 'in',
  kernelValues: 'k',
};

const field = (name: string) => form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement | RadioNodeList;

/** A whole number within the field's min and max; the field shows what is used. */
function readNumber(name: NumberField): number {
  const input = field(name) as HTMLInputElement;
  const min = Number(input.min);
  const max = Number(input.max);
  const raw = Math.round(Number(input.value));
  const value = Number.isFinite(raw) && input.value !== '' ? Math.min(max, Math.max(min, raw)) : min;
  if (String(value) !== input.value && document.activeElement !== input) input.value = String(value);
  return value;
}

interface PageState {
  readonly settings: Settings;
  readonly inputValues: Preset;
  readonly kernelValues: Preset;
}

function readState(): PageState {
  const op = (field('op') as RadioNodeList).value as Op;
  const numbers = Object.fromEntries(NUMBER_FIELDS.map((n) => [n, readNumber(n)])) as Record<NumberField, number>;
  const preset = (name: string, fallback: Preset): Preset => {
    const v = (field(name) as HTMLSelectElement).value;
    return isPreset(v) ? v : fallback;
  };
  return {
    settings: { op: OPS.includes(op) ? op : 'conv-transpose2d', ...numbers },
    inputValues: preset('inputValues', 'ramp'),
    kernelValues: preset('kernelValues', 'ones'),
  };
}

function writeHash(s: PageState): void {
  const params = new URLSearchParams();
  params.set(HASH_KEYS.op, s.settings.op);
  for (const n of NUMBER_FIELDS) params.set(HASH_KEYS[n], String(s.settings[n]));
  params.set(HASH_KEYS.inputValues, s.inputValues);
  params.set(HASH_KEYS.kernelValues, s.kernelValues);
  history.replaceState(null, '', `#${params}`);
}

/** A link's setting into the controls. */
function readHash(): void {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [name, short] of Object.entries(HASH_KEYS)) {
    const v = params.get(short);
    if (v === null) continue;
    const f = field(name);
    if (f instanceof RadioNodeList) f.value = v;
    else f.value = v;
  }
}

// ---- the grids and what hovering shows ------------------------------------------------------

interface Drawn {
  readonly g: Geometry;
  readonly input: Grid;
  readonly kernel: Grid;
  readonly output?: Grid;
}

let drawn: Drawn | undefined;
let stepped: number | undefined;
let playing: number | undefined;

const windowCount = (g: Geometry) => Math.max(0, g.windows.rows) * Math.max(0, g.windows.cols);

/** Which drawn grid holds the image, and which the window positions. */
function roles(d: Drawn): { image?: Grid; windows?: Grid } {
  switch (d.g.settings.op) {
    case 'conv-transpose2d':
      return { image: d.output, windows: d.input };
    case 'conv2d':
    case 'im2col':
      return { image: d.input, windows: d.output };
    case 'col2im':
      return { image: d.output, windows: d.input };
  }
}

const isColumns = (g: Geometry) => g.settings.op === 'im2col' || g.settings.op === 'col2im';

function clearMarks(d: Drawn): void {
  d.input.clearMarks();
  d.kernel.clearMarks();
  d.output?.clearMarks();
  $('#caption').textContent = hoverHint(d.g.settings.op);
}

/** Window position `w`: what it touches on the image, with `tap` singled out. */
function showWindow(d: Drawn, w: Cell, tap?: Cell): void {
  clearMarks(d);
  const { image, windows } = roles(d);
  const touches = windowPixels(d.g, w);
  if (isColumns(d.g)) {
    const column = columnOf(d.g, w);
    windows?.mark(
      touches.map((t) => ({ row: rowOfTap(d.g, t.tap), col: column })),
      'lit',
    );
    if (tap) windows?.mark([{ row: rowOfTap(d.g, tap), col: column }], 'hot');
  } else {
    windows?.mark([w], 'hot');
  }
  image?.mark(touches, 'lit');
  d.kernel.mark(
    touches.map((t) => t.tap),
    'lit',
  );
  d.kernel.mark(
    touches.filter((t) => !t.inside).map((t) => t.tap),
    'lost',
  );
  if (tap) {
    const one = touches.find((t) => t.tap.row === tap.row && t.tap.col === tap.col);
    if (one) image?.mark([one], 'hot');
    d.kernel.mark([tap], 'hot');
  }
  $('#caption').textContent = describeTouches(d.g, w, touches);
}

/** Image pixel `p`: every window position (and tap) touching it. */
function showPixel(d: Drawn, p: Cell): void {
  clearMarks(d);
  const { image, windows } = roles(d);
  image?.mark([p], 'hot');
  const inside = p.row >= 0 && p.row < d.g.image.rows && p.col >= 0 && p.col < d.g.image.cols;
  const touchers = pixelWindows(d.g, p);
  windows?.mark(
    touchers.map((t) => (isColumns(d.g) ? { row: rowOfTap(d.g, t.tap), col: columnOf(d.g, t.window) } : t.window)),
    'lit',
  );
  d.kernel.mark(
    touchers.map((t) => t.tap),
    'lit',
  );
  const n = touchers.length;
  const pixel = `(${p.row}, ${p.col})`;
  const text: Record<Op, string> = {
    'conv-transpose2d': inside
      ? `Output pixel ${pixel} sums ${n} input pixel${n === 1 ? '' : 's'} × kernel tap${n === 1 ? '' : 's'}.`
      : `${pixel} is cut off by padding: what ${n} input pixel${n === 1 ? '' : 's'} put here is dropped.`,
    conv2d: inside
      ? `Input pixel ${pixel} is read by ${n} output pixel${n === 1 ? '' : 's'}.`
      : `Padding ${pixel} is a 0, read by ${n} window${n === 1 ? '' : 's'}.`,
    im2col: inside
      ? `Input pixel ${pixel} is copied into ${n} column entr${n === 1 ? 'y' : 'ies'}.`
      : `Padding ${pixel} puts a 0 into ${n} column entr${n === 1 ? 'y' : 'ies'}.`,
    col2im: inside
      ? `Output pixel ${pixel} is the sum of ${n} column entr${n === 1 ? 'y' : 'ies'}.`
      : `${pixel} lies in the padding: ${n} column entr${n === 1 ? 'y is' : 'ies are'} dropped.`,
  };
  $('#caption').textContent = text[d.g.settings.op];
}

function showStep(d: Drawn): void {
  if (stepped === undefined) {
    clearMarks(d);
    return;
  }
  const g = d.g;
  showWindow(d, { row: Math.floor(stepped / g.windows.cols), col: stepped % g.windows.cols });
  $('#step-position').textContent = `${stepped + 1} / ${windowCount(g)}`;
}

function wireHover(d: Drawn): void {
  const { image, windows } = roles(d);
  const back = () => showStep(d);
  image?.onPoint((p) => (p ? showPixel(d, p) : back()));
  windows?.onPoint((c) => {
    if (!c) return back();
    if (isColumns(d.g))
      showWindow(d, windowOfColumn(d.g, c.col), {
        row: Math.floor(c.row / d.g.colAxis.kernel),
        col: c.row % d.g.colAxis.kernel,
      });
    else showWindow(d, c);
  });
  d.kernel.onPoint((tap) => {
    if (!tap) return back();
    clearMarks(d);
    d.kernel.mark([tap], 'hot');
    $('#caption').textContent =
      `Kernel tap (${tap.row}, ${tap.col}): the taps sit ${d.g.rowAxis.dilation} pixel${d.g.rowAxis.dilation === 1 ? '' : 's'} apart (dilation).`;
  });
}

function step(by: number): void {
  if (!drawn) return;
  const n = windowCount(drawn.g);
  if (n === 0) return;
  stepped = stepped === undefined ? (by > 0 ? 0 : n - 1) : (stepped + by + n) % n;
  showStep(drawn);
}

function setPlaying(on: boolean): void {
  if (playing !== undefined) window.clearInterval(playing);
  playing = on ? window.setInterval(() => step(1), 900) : undefined;
  $('#play').textContent = on ? '❚❚ Pause' : '▶ Play';
  $('#play').setAttribute('aria-pressed', String(on));
}

// ---- drawing --------------------------------------------------------------------------------

const mount = (host: string, grid: Grid | undefined) => $(host).replaceChildren(...(grid ? [grid.svg] : []));

const sizeText = (rows: number, cols: number) => `${rows} × ${cols}`;

function draw(g: Geometry, inputValues: readonly number[], kernelValues: readonly number[], answer?: Answer): Drawn {
  const op = g.settings.op;
  const outputValues = answer?.ok ? answer.data : undefined;
  const inputGrid =
    op === 'conv-transpose2d'
      ? windowGrid(g.input, 'input-grid', 'input', inputValues)
      : op === 'col2im'
        ? columnsGrid(g, 'input-grid', inputValues)
        : imageGrid(g, 'input-grid', 'input', inputValues);
  const showOutput = isValidSize(g.output) && answer?.ok !== false;
  const outputGrid = !showOutput
    ? undefined
    : op === 'conv2d'
      ? windowGrid(g.output, 'output-grid', 'output', outputValues)
      : op === 'im2col'
        ? columnsGrid(g, 'output-grid', outputValues)
        : imageGrid(g, 'output-grid', 'output', outputValues);
  const d: Drawn = {
    g,
    input: new Grid(inputGrid),
    kernel: new Grid(kernelGrid(g, 'kernel-grid', kernelValues)),
    output: outputGrid && new Grid(outputGrid),
  };
  mount('#input-host', d.input);
  mount('#kernel-host', d.kernel);
  mount('#output-host', d.output);
  $('#input-size').textContent = sizeText(g.input.rows, g.input.cols);
  $('#kernel-size').textContent =
    sizeText(g.settings.kernelHeight, g.settings.kernelWidth) +
    (g.rowAxis.dilation > 1 ? `, dilation ${g.rowAxis.dilation}` : '');
  $('#output-size').textContent = answer?.ok
    ? sizeText(answer.shape.at(-2) ?? 0, answer.shape.at(-1) ?? 0)
    : answer
      ? '—'
      : '…';
  wireHover(d);
  $('#caption').textContent = hoverHint(op);
  return d;
}

function showProblem(problem: Problem | undefined): void {
  const box = $('#problem');
  box.hidden = !problem;
  if (!problem) {
    box.replaceChildren();
    return;
  }
  const head = document.createElement('strong');
  head.textContent = `${problem.status} ${problem.title}`;
  const detail = document.createElement('p');
  detail.className = 'detail';
  detail.textContent = problem.detail;
  const list = document.createElement('ul');
  // Field errors that only repeat the detail are left out.
  for (const e of (problem.errors ?? []).filter((e) => !problem.detail.includes(e.message))) {
    const li = document.createElement('li');
    li.textContent = `${e.path}: ${e.message}`;
    list.append(li);
  }
  const note = document.createElement('p');
  note.className = 'note';
  note.textContent = 'This is the problem document the API answered for these parameters.';
  box.replaceChildren(head, detail, ...(list.childElementCount ? [list] : []), note);
}

function showWords(g: Geometry, changed: string | undefined): void {
  $('#formulas').replaceChildren(
    ...sizeFormulas(g).map((f) => {
      const row = document.createElement('div');
      row.className = f.value < 1 ? 'formula invalid' : 'formula';
      const general = document.createElement('code');
      general.textContent = f.general;
      const filled = document.createElement('code');
      filled.className = 'filled';
      filled.textContent = `= ${f.filled}`;
      row.append(general, filled);
      return row;
    }),
  );
  $('#explanations').replaceChildren(
    ...explanations(g).map((e) => {
      const li = document.createElement('li');
      li.dataset.param = e.param;
      if (e.param === changed) li.className = 'changed';
      li.textContent = e.text;
      return li;
    }),
  );
}

/** Labels and fields that depend on the op. */
function showOpControls(op: Op): void {
  document.body.dataset.op = op;
  const outputPadding = field('outputPadding') as HTMLInputElement;
  outputPadding.disabled = op !== 'conv-transpose2d';
  $('#size-label').textContent = op === 'col2im' ? 'Image (outputSize)' : 'Input';
  $('#input-title').textContent = op === 'col2im' ? 'Columns' : 'Input';
  $('#output-title').textContent = op === 'im2col' ? 'Columns' : 'Output';
  const columns = op === 'im2col' || op === 'col2im';
  $('#op-sign').textContent = op === 'conv-transpose2d' ? '⊛ᵀ' : op === 'conv2d' ? '⊛' : 'by';
  $('#result-sign').textContent = columns ? '→' : '=';
  $('#kernel-title').textContent = columns ? 'Window' : 'Kernel';
  // im2col and col2im move values by the window's shape; they have no weights.
  (field('kernelValues') as HTMLSelectElement).disabled = columns;
}

// ---- the request cycle ----------------------------------------------------------------------

let inFlight: AbortController | undefined;
let timer: number | undefined;

function update(changed?: string): void {
  const state = readState();
  writeHash(state);
  showOpControls(state.settings.op);
  const g = geometry(state.settings);
  const inputValues = fill(state.inputValues, g.input, 7);
  const kernelValues = fill(state.kernelValues, { rows: g.settings.kernelHeight, cols: g.settings.kernelWidth }, 11);
  const request = requestFor(g, inputValues, kernelValues);
  stepped = undefined;
  $('#step-position').textContent = '';
  drawn = draw(g, inputValues, kernelValues);
  showWords(g, changed);
  showProblem(undefined);
  $('#request').textContent = `POST ${request.path}\n${JSON.stringify(request.body, null, 1)}`;
  $('#curl').textContent = curlFor(request, location.origin);

  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  send(request, controller.signal, ($('#api-key') as HTMLInputElement).value.trim())
    .then((answer) => {
      if (controller.signal.aborted) return;
      drawn = draw(g, inputValues, kernelValues, answer);
      showProblem(answer.ok ? undefined : answer.problem);
      document.body.dataset.state = answer.ok ? 'ready' : 'error';
    })
    .catch((err: unknown) => {
      if (controller.signal.aborted) return;
      showProblem({ title: 'The service did not answer', status: 0, detail: String(err) });
      document.body.dataset.state = 'error';
    });
}

/** Marks the page busy at once (the test waits for the answer), and asks once typing pauses. */
function schedule(changed?: string): void {
  document.body.dataset.state = 'loading';
  inFlight?.abort();
  if (timer !== undefined) window.clearTimeout(timer);
  timer = window.setTimeout(() => update(changed), 120);
}

form.addEventListener('input', (e) => schedule((e.target as HTMLInputElement).name));
form.addEventListener('submit', (e) => e.preventDefault());
$('#step-next').addEventListener('click', () => step(1));
$('#step-prev').addEventListener('click', () => step(-1));
$('#play').addEventListener('click', () => setPlaying(playing === undefined));
$('#legend-host').append(legend(scaleStops()));
document.addEventListener('keydown', (e) => {
  if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
  if (e.key === 'ArrowRight') step(1);
  if (e.key === 'ArrowLeft') step(-1);
});
readHash();
update();
