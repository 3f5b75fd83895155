import { keccak256, stringToHex, type Hex } from "viem";

/**
 * The on-chain id of a model: keccak256 of its UTF-8 name (e.g. "llama-3.1-8b-instruct"). Providers register
 * it, requesters post jobs against it, and the provider daemon maps it back to its configured endpoints.
 * Names are case-sensitive: "Llama" and "llama" are two models.
 */
export function modelId(name: string): Hex {
  if (name.length === 0) throw new TypeError("A model name must not be empty");
  return keccak256(stringToHex(name));
}
