/**
 * The demo's question-and-answer set, written for this project (not taken from any dataset). The honest provider
 * answers each question with its answer; the requester posts the questions in order, cycling when --jobs exceeds
 * the set. Answers are short, plain, complete sentences, like a careful assistant would write them. Every question
 * has at least six words (written when use-lite-checked judged echoes only for answers of 6+ words; its echo check
 * now catches an echoed question of any length, docs/EVALUATORS.md).
 */
export interface QaPair {
  question: string;
  answer: string;
}

export const QA_SET: readonly QaPair[] = [
  { question: "Why is the sky blue during the day?", answer: "Sunlight is scattered by the molecules of the air, and short blue wavelengths scatter far more than red ones, so blue light reaches our eyes from every direction of the sky." },
  { question: "What causes the seasons on Earth?", answer: "Earth's axis is tilted by about 23 degrees, so for part of the year each hemisphere leans toward the Sun and receives more direct sunlight and longer days, which makes summer." },
  { question: "How do vaccines protect people from disease?", answer: "A vaccine shows the immune system a harmless piece or weakened form of a germ, so the body makes antibodies and memory cells that recognise the real germ quickly later." },
  { question: "What is photosynthesis and what does it produce?", answer: "Photosynthesis is the process by which plants, algae and some bacteria use light energy to turn carbon dioxide and water into sugar, releasing oxygen as a by-product." },
  { question: "Why does ice float on water?", answer: "When water freezes its molecules lock into an open crystal lattice held by hydrogen bonds, so ice is about nine percent less dense than liquid water and floats." },
  { question: "What does a compiler do with a program's source code?", answer: "A compiler translates source code written in a programming language into a lower-level form, such as machine code or bytecode, that a computer can execute." },
  { question: "What is the difference between weather and climate?", answer: "Weather is the state of the atmosphere over hours or days, while climate is the average pattern of weather in a region measured over decades." },
  { question: "How does a refrigerator keep food cold?", answer: "A refrigerator pumps a refrigerant through a loop: it evaporates inside the cabinet, absorbing heat, and is compressed and condensed outside, releasing that heat into the room." },
  { question: "Why do we have leap years?", answer: "A year on Earth lasts about 365.24 days, so adding one extra day to February almost every four years keeps the calendar aligned with the seasons." },
  { question: "What does the word inflation mean in economics?", answer: "Inflation is the general rise in prices across an economy over time, which means each unit of money buys fewer goods and services than before." },
  { question: "How do honey bees turn flower nectar into honey?", answer: "Bees collect flower nectar, add enzymes that break its sugars down, and store it in wax cells, fanning it with their wings until enough water evaporates to make honey." },
  { question: "What is the purpose of a hash function in computing?", answer: "A hash function maps data of any size to a fixed-size value, which lets programs look data up quickly, detect changes to files, and build secure signatures when the function is cryptographic." },
  { question: "Why does the Moon show phases?", answer: "The Moon is lit by the Sun on one side, and as it orbits Earth we see different portions of that sunlit half, from a thin crescent to a full disc." },
  { question: "What is the greenhouse effect on our planet?", answer: "Gases such as carbon dioxide, methane and water vapour let sunlight in but absorb heat radiated by Earth's surface, which keeps the planet warmer than it would otherwise be." },
  { question: "How does a bicycle stay upright while moving?", answer: "A moving bicycle stays upright mostly because the rider steers the front wheel under the falling side, helped by the geometry of the fork, which turns the wheel into a lean automatically." },
  { question: "What is a black hole in outer space?", answer: "A black hole is a region of space where matter is packed so densely that gravity prevents anything, even light, from escaping once it crosses the event horizon." },
  { question: "Why should you wash your hands with soap?", answer: "Soap molecules bind to oils and break apart the fatty envelopes of many germs, so rinsing with water carries dirt, viruses and bacteria off the skin." },
  { question: "What does DNA do in a living cell?", answer: "DNA stores the genetic instructions of a cell: its sequence of bases encodes the proteins the cell builds and is copied and passed on when the cell divides." },
  { question: "How do the wings of airplanes generate lift?", answer: "A wing is shaped and angled so that it pushes air downward as it moves; by Newton's third law the air pushes the wing up, and the lower pressure above the wing adds to that lift." },
  { question: "What is the role of the liver in the human body?", answer: "The liver filters toxins from the blood, produces bile to digest fats, stores energy as glycogen, and makes many proteins the blood needs, including clotting factors." },
  { question: "Why do metals conduct electricity well?", answer: "In a metal the outer electrons are not bound to single atoms but move freely through the lattice, so a small voltage makes them flow as an electric current." },
  { question: "What is a prime number in mathematics?", answer: "A prime number is a whole number greater than one whose only divisors are one and itself, such as 2, 3, 5, 7 and 11." },
  { question: "How and why do earthquakes happen on Earth?", answer: "Earthquakes happen when stress built up along a fault between tectonic plates is released suddenly, sending seismic waves through the ground." },
  { question: "What does an operating system do?", answer: "An operating system manages a computer's hardware and shares it between programs, handling memory, processes, files, devices and security so applications do not have to." },
  { question: "Why do onions make people cry?", answer: "Cutting an onion breaks its cells and releases enzymes that produce a volatile sulfur compound, which irritates the eyes and makes the tear glands flush it away." },
  { question: "What is the water cycle of our planet?", answer: "Water evaporates from oceans and land, condenses into clouds, falls back as rain or snow, and flows through rivers and groundwater to the sea, where the cycle repeats." },
  { question: "How does a battery store energy?", answer: "A battery stores energy chemically: two electrodes with different chemistry are separated by an electrolyte, and when a circuit connects them, reactions push electrons through the circuit." },
  { question: "What is the speed of light in a vacuum?", answer: "Light travels through a vacuum at exactly 299,792,458 metres per second, roughly three hundred thousand kilometres every second." },
  { question: "Why do cats purr and how do they do it?", answer: "Cats purr by rapidly twitching the muscles of the larynx as they breathe, often when content but also when stressed or healing, and the vibration may help soothe them." },
  { question: "What is a blockchain and why is it hard to change?", answer: "A blockchain is a shared ledger kept by many computers, where records are grouped into blocks that each include a hash of the previous block, so past entries cannot be changed unnoticed." },
  { question: "How do plants know which way to grow?", answer: "Plants sense gravity with dense starch grains in special cells and sense light with photoreceptors, then redistribute the hormone auxin so roots grow down and shoots grow toward light." },
];

const byQuestion = new Map(QA_SET.map((pair) => [pair.question, pair.answer]));

/** The set's answer to `question`, or undefined for a question that is not in the set. */
export function answerFor(question: string): string | undefined {
  return byQuestion.get(question.trim());
}

/** The i-th prompt the demo posts (cycling through the set). */
export function questionAt(i: number): string {
  return QA_SET[i % QA_SET.length]!.question;
}
