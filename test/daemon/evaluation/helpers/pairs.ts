/** Hand-written (prompt, answer) pairs shared by the evaluator tests. */
import type { ScorePair } from "../../../../daemon/evaluation/evaluator.ts";

/** Each question with an on-topic, helpful answer and an unrelated one. */
export const RELEVANCE_CASES: { prompt: string; relevant: string; irrelevant: string }[] = [
  {
    prompt: "How do I bake a simple loaf of bread at home?",
    relevant: "Mix flour, water, yeast and salt, knead the dough for ten minutes, let it rise for an hour, shape it and bake at 230 C for about 30 minutes.",
    irrelevant: "The Treaty of Westphalia ended the Thirty Years' War in 1648 and reshaped the map of Europe.",
  },
  {
    prompt: "What causes the seasons on Earth?",
    relevant: "The seasons come from the tilt of Earth's axis: as Earth orbits the Sun, each hemisphere leans toward the Sun for part of the year and gets more direct sunlight.",
    irrelevant: "To reset your router, hold the small button on the back for ten seconds until the lights blink.",
  },
  {
    prompt: "How can I improve my sleep?",
    relevant: "Keep a regular bedtime, avoid caffeine after noon, keep the bedroom dark and cool, and put screens away an hour before you sleep.",
    irrelevant: "Python lists are mutable sequences; tuples are immutable and can be used as dictionary keys.",
  },
  {
    prompt: "Which programming language should I learn first for web development?",
    relevant: "Start with JavaScript: it runs in every browser, and with Node.js you can also write the server side of a web application.",
    irrelevant: "Tomatoes grow best in full sun with regular watering and a stake to support the vines.",
  },
];

/** Fixed pairs for cross-process determinism, including hostile text. */
export const SCORING_FIXTURE_PAIRS: ScorePair[] = [
  ...RELEVANCE_CASES.flatMap((c) => [
    { prompt: c.prompt, answer: c.relevant },
    { prompt: c.prompt, answer: c.irrelevant },
  ]),
  { prompt: "Say something.", answer: "" },
  { prompt: "Explain photosynthesis.", answer: "Plants use light to turn water and carbon dioxide into sugar and oxygen. ".repeat(400) },
  { prompt: "Bad bytes", answer: "\u0000\u0007\ud800 caf\uFFFD \u202e text" },
];
