import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { requestFor } from '../../playground/src/api.js';
import { heat } from '../../playground/src/colors.js';
import { explanations, sizeFormulas } from '../../playground/src/explain.js';
import {
  type Axis,
  convLength,
  geometry,
  imageExtent,
  type Op,
  pixelWindows,
  reachedOutputs,
  readInputs,
  type Settings,
  touchedPixel,
  touchersOf,
  transposedLength,
  windowPixels,
} from '../../playground/src/geometry.js';
import { fill } from '../../playground/src/values.js';
import { build } from '../helpers/build.js';
import { send } from '../helpers/http.js';

const settings = (over: Partial<Settings> = {}): Settings => ({
  op: 'conv-transpose2d',
  height: 3,
  width: 3,
  kernelHeight: 3,
  kernelWidth: 3,
  stride: 1,
  padding: 0,
  outputPadding: 0,
  dilation: 1,
  ...over,
});

const axis = (over: Partial<Axis> = {}): Axis => ({
  kernel: 3,
  stride: 1,
  padding: 0,
  dilation: 1,
  outputPadding: 0,
  ...over,
});
const sorted = <T extends { row: number; col: number }>(cells: T[]) =>
  cells.map(({ row, col }) => [row, col]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);

describe('playground geometry', () => {
  it('gives the output sizes of docs/semantics.md', () => {
    // (H-1)s - 2p + d(k-1) + a + 1
    assert.equal(transposedLength(2, axis({ stride: 2 })), 5);
    assert.equal(transposedLength(3, axis({ stride: 2, padding: 1, outputPadding: 1 })), 6);
    assert.equal(transposedLength(3, axis({ dilation: 2 })), 7);
    // floor((H + 2p - d(k-1) - 1) / s) + 1
    assert.equal(convLength(5, axis({ stride: 2, padding: 1 })), 3);
    assert.equal(convLength(6, axis({ stride: 2 })), 2);
    assert.equal(convLength(2, axis()), 0, 'a kernel larger than the image leaves no position');
    const g = geometry(settings({ op: 'im2col', height: 4, width: 5, kernelHeight: 2, kernelWidth: 3 }));
    assert.deepEqual(g.output, { rows: 6, cols: 9 }, 'im2col: kH·kW rows, Lh·Lw columns');
    assert.deepEqual(geometry({ ...g.settings, op: 'col2im' }).input, g.output, 'col2im reads what im2col writes');
  });

  it('scatters an input pixel of a transposed convolution to the output pixels stride, padding and dilation say', () => {
    const g = geometry(settings({ stride: 2, padding: 1 }));
    // Taps of input row 0 land on rows -1, 0, 1; padding 1 cuts row -1 off.
    assert.deepEqual(sorted(reachedOutputs(g, { row: 0, col: 0 })), [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    assert.deepEqual(sorted(reachedOutputs(g, { row: 1, col: 2 })), [
      [1, 3],
      [1, 4],
      [2, 3],
      [2, 4],
      [3, 3],
      [3, 4],
    ]);
    const dilated = geometry(settings({ stride: 2, dilation: 2 }));
    assert.deepEqual(sorted(reachedOutputs(dilated, { row: 1, col: 0 })), [
      [2, 0],
      [2, 2],
      [2, 4],
      [4, 0],
      [4, 2],
      [4, 4],
      [6, 0],
      [6, 2],
      [6, 4],
    ]);
    const lost = windowPixels(g, { row: 0, col: 0 }).filter((t) => !t.inside);
    assert.equal(lost.length, 5, 'the taps on row -1 and column -1 are cut off');
  });

  it('reads the input window of a plain convolution, padding included', () => {
    const g = geometry(settings({ op: 'conv2d', height: 5, width: 5, stride: 2, padding: 1 }));
    assert.deepEqual(sorted(readInputs(g, { row: 0, col: 0 })), [
      [0, 0],
      [0, 1],
      [1, 0],
      [1, 1],
    ]);
    assert.deepEqual(sorted(readInputs(g, { row: 2, col: 1 })), [
      [3, 1],
      [3, 2],
      [3, 3],
      [4, 1],
      [4, 2],
      [4, 3],
    ]);
    assert.deepEqual(imageExtent(g), { rowFrom: -1, rowTo: 5, colFrom: -1, colTo: 5 }, 'the padding ring is drawn');
  });

  it('finds exactly the (window, tap) pairs that touch a pixel, for every small setting', () => {
    let checked = 0;
    for (const stride of [1, 2, 3])
      for (const padding of [0, 1, 2])
        for (const dilation of [1, 2])
          for (const kernel of [1, 2, 3]) {
            const a = axis({ kernel, stride, padding, dilation });
            const windows = 4;
            for (let x = -padding - 1; x < 16; x++) {
              const expected: { window: number; tap: number }[] = [];
              for (let w = 0; w < windows; w++)
                for (let t = 0; t < kernel; t++) if (touchedPixel(a, w, t) === x) expected.push({ window: w, tap: t });
              const key = (p: { window: number; tap: number }) => `${p.window}:${p.tap}`;
              assert.deepEqual(
                touchersOf(a, x, windows).map(key).sort(),
                expected.map(key).sort(),
                `pixel ${x} of ${JSON.stringify(a)}`,
              );
              checked++;
            }
          }
    assert.ok(checked > 500);
  });

  it('fills the size formula in with the current numbers', () => {
    const [rows, cols] = sizeFormulas(
      geometry(settings({ height: 3, width: 4, stride: 2, padding: 1, outputPadding: 1 })),
    );
    assert.equal(rows.general, 'Ho = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1');
    assert.equal(rows.filled, '(3 − 1)·2 − 2·1 + 1·(3 − 1) + 1 + 1 = 6');
    assert.equal(cols.value, 8);
    const [conv] = sizeFormulas(geometry(settings({ op: 'conv2d', height: 5, stride: 2, padding: 1 })));
    assert.equal(conv.filled, '⌊(5 + 2·1 − 1·(3 − 1) − 1) / 2⌋ + 1 = 3');
  });

  it('explains outputPadding as the choice among the sizes a strided convolution merges', () => {
    const words = explanations(geometry(settings({ stride: 2, outputPadding: 1 })));
    const text = words.find((w) => w.param === 'outputPadding')?.text ?? '';
    assert.match(text, /turns 7, 8 rows all into 3/);
    assert.match(text, /here 8/);
    assert.deepEqual(
      words.map((w) => w.param),
      ['op', 'stride', 'padding', 'outputPadding', 'dilation'],
    );
    assert.ok(
      !explanations(geometry(settings({ op: 'conv2d' }))).some((w) => w.param === 'outputPadding'),
      'conv2d has no outputPadding',
    );
  });

  it('makes readable values and colours', () => {
    assert.deepEqual(fill('ramp', { rows: 2, cols: 2 }), [1, 2, 3, 4]);
    assert.deepEqual(fill('one-hot', { rows: 3, cols: 3 }), [0, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert.deepEqual(
      fill('random', { rows: 2, cols: 3 }, 5),
      fill('random', { rows: 2, cols: 3 }, 5),
      'a seed repeats its values',
    );
    assert.equal(heat(0, 0, 10).fill, 'rgb(68, 1, 84)');
    assert.equal(heat(10, 0, 10).fill, 'rgb(253, 231, 37)');
    assert.equal(heat(10, 0, 10).ink, '#111', 'dark text on yellow');
    assert.equal(heat(0, 0, 10).ink, '#fff', 'light text on purple');
  });
});

/** The same geometry, checked against what the service computes. */
describe('playground geometry against the service', () => {
  let app: FastifyInstance;
  before(async () => {
    app = await build(null);
  });
  after(() => app.close());
  const post = async (url: string, payload: unknown) => {
    const res = await send(app, { method: 'POST', url, payload });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as Record<string, { shape: number[]; data: number[] }>;
  };

  const transposed: Partial<Settings>[] = [
    { stride: 2 },
    { stride: 2, padding: 1, outputPadding: 1 },
    { stride: 3, padding: 2, dilation: 2, kernelWidth: 2, outputPadding: 1 },
    { height: 2, width: 4, stride: 1, padding: 1, dilation: 3, outputPadding: 2 },
  ];
  for (const over of transposed) {
    it(`conv-transpose2d ${JSON.stringify(over)}: each input pixel reaches the predicted output pixels with the predicted taps`, async () => {
      const g = geometry(settings(over));
      const { height: H, width: W, kernelHeight: kH, kernelWidth: kW } = g.settings;
      // One sample per input pixel, each a one-hot image; tap t of the kernel holds t + 1.
      const input = {
        shape: [H * W, 1, H, W],
        data: Array.from({ length: H * W * H * W }, (_, i) => (i % (H * W) === Math.floor(i / (H * W)) ? 1 : 0)),
      };
      const weight = { shape: [1, 1, kH, kW], data: fill('ramp', { rows: kH, cols: kW }) };
      const { stride, padding, outputPadding, dilation } = g.settings;
      const { output } = await post('/v1/conv-transpose2d/forward', {
        input,
        weight,
        stride,
        padding,
        outputPadding,
        dilation,
      });
      assert.deepEqual(output.shape, [H * W, 1, g.output.rows, g.output.cols]);
      const plane = g.output.rows * g.output.cols;
      for (let n = 0; n < H * W; n++) {
        const expected = new Array<number>(plane).fill(0);
        for (const t of windowPixels(g, { row: Math.floor(n / W), col: n % W }))
          if (t.inside) expected[t.row * g.output.cols + t.col] = t.tap.row * kW + t.tap.col + 1;
        assert.deepEqual(output.data.slice(n * plane, (n + 1) * plane), expected, `input pixel ${n}`);
      }
    });
  }

  const windowed: Partial<Settings>[] = [
    { height: 5, width: 5, stride: 2, padding: 1 },
    { height: 6, width: 4, kernelHeight: 2, stride: 1, padding: 2, dilation: 2 },
    { height: 4, width: 7, kernelWidth: 1, stride: 3, padding: 0 },
  ];
  for (const over of windowed) {
    it(`im2col ${JSON.stringify(over)}: each column holds the predicted input window, zeros in the padding`, async () => {
      const g = geometry(settings({ op: 'im2col', ...over }));
      const { height: H, width: W } = g.settings;
      const { stride, padding, dilation, kernelHeight, kernelWidth } = g.settings;
      const { columns } = await post('/v1/im2col', {
        input: { shape: [1, H, W], data: fill('ramp', { rows: H, cols: W }) },
        kernelSize: [kernelHeight, kernelWidth],
        stride,
        padding,
        dilation,
      });
      assert.deepEqual(columns.shape, [g.output.rows, g.output.cols]);
      for (let l = 0; l < g.output.cols; l++) {
        const touches = windowPixels(g, { row: Math.floor(l / g.windows.cols), col: l % g.windows.cols });
        const column = touches.map((_, r) => columns.data[r * g.output.cols + l]);
        assert.deepEqual(
          column,
          touches.map((t) => (t.inside ? t.row * W + t.col + 1 : 0)),
          `column ${l}`,
        );
      }
    });

    it(`col2im ${JSON.stringify(over)}: each pixel sums as many column entries as windows touch it`, async () => {
      const g = geometry(settings({ op: 'col2im', ...over }));
      const { stride, padding, dilation, kernelHeight, kernelWidth, height, width } = g.settings;
      const ones = fill('ones', g.input);
      const { output } = await post('/v1/col2im', {
        columns: { shape: [g.input.rows, g.input.cols], data: ones },
        outputSize: [height, width],
        kernelSize: [kernelHeight, kernelWidth],
        stride,
        padding,
        dilation,
      });
      const expected = Array.from(
        { length: height * width },
        (_, i) => pixelWindows(g, { row: Math.floor(i / width), col: i % width }).length,
      );
      assert.deepEqual(output.data, expected);
    });
  }

  for (const op of ['conv-transpose2d', 'conv2d', 'im2col', 'col2im'] as Op[]) {
    it(`${op}: the page's request is accepted and answers the output size the page draws`, async () => {
      const g = geometry(settings({ op, height: 5, width: 4, stride: 2, padding: 1, outputPadding: 1 }));
      const req = requestFor(g, fill('random', g.input, 3), fill('ramp', { rows: 3, cols: 3 }));
      const answer = await post(req.path, req.body);
      const result = answer.output ?? answer.columns;
      assert.deepEqual(result.shape.slice(-2), [g.output.rows, g.output.cols]);
    });
  }
});
