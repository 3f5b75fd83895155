import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SCORE_MAX } from "../../../daemon/evaluation/evaluator.ts";
import { mapRawToScore, quantizeRaw, type ScoreMapping } from "../../../daemon/evaluation/score-mapping.ts";

const sigmoid: ScoreMapping = { type: "sigmoid", center: 0, scale: 1, rawDecimals: 4 };
const linear: ScoreMapping = { type: "linear", min: -0.1, max: 0.9, rawDecimals: 4 };

describe("score mapping", () => {
  it("sigmoid maps known points", () => {
    assert.equal(mapRawToScore(0, sigmoid), 5000);
    assert.equal(mapRawToScore(2, sigmoid), Math.round(SCORE_MAX / (1 + Math.exp(-2))));
    assert.equal(mapRawToScore(-2, sigmoid), SCORE_MAX - mapRawToScore(2, sigmoid));
    assert.equal(mapRawToScore(1, { ...sigmoid, center: 1, scale: 3 }), 5000);
  });

  it("linear maps and clamps", () => {
    assert.equal(mapRawToScore(-0.1, linear), 0);
    assert.equal(mapRawToScore(0.4, linear), 5000);
    assert.equal(mapRawToScore(0.9, linear), SCORE_MAX);
    assert.equal(mapRawToScore(-1, linear), 0);
    assert.equal(mapRawToScore(1, linear), SCORE_MAX);
  });

  it("quantises raw first so tiny float noise does not move the integer", () => {
    assert.equal(quantizeRaw(0.123449999, 4), 0.1234);
    assert.equal(quantizeRaw(-0.12345, 4), -0.1235); // half away from zero
    for (const raw of [-7.31, -0.5, 0.0001, 1.7, 9.99]) {
      assert.equal(mapRawToScore(raw + 1e-7, sigmoid), mapRawToScore(raw, sigmoid));
      assert.equal(mapRawToScore(raw - 1e-7, sigmoid), mapRawToScore(raw, sigmoid));
    }
  });

  it("always returns an integer in [0, SCORE_MAX], even for non-finite raws", () => {
    const raws = [NaN, Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE, 1e-300, -0, 745, -745];
    for (const mapping of [sigmoid, linear]) {
      for (const raw of raws) {
        const s = mapRawToScore(raw, mapping);
        assert.ok(Number.isInteger(s) && s >= 0 && s <= SCORE_MAX, `${raw} -> ${s}`);
      }
      assert.equal(mapRawToScore(NaN, mapping), 0);
      assert.equal(mapRawToScore(Infinity, mapping), SCORE_MAX);
      assert.equal(mapRawToScore(-Infinity, mapping), 0);
    }
  });

  it("is monotonic (non-decreasing) in the raw value", () => {
    for (const mapping of [sigmoid, linear]) {
      let previous = -1;
      for (let raw = -12; raw <= 12; raw += 0.013) {
        const s = mapRawToScore(raw, mapping);
        assert.ok(s >= previous, `${raw}`);
        previous = s;
      }
    }
  });
});
