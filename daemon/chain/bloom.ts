import { hexToBytes, keccak256, type Address, type Hex } from "viem";

const BLOOM_BYTES = 256;

/**
 * False only when a block's `logsBloom` proves that no log of the block was emitted by `address` (the Ethereum
 * bloom: three 11-bit indexes from keccak256 of the address, each setting one of 2048 bits). A bloom never has
 * false negatives, so a watcher may skip reading the logs of such a block; any malformed bloom says "maybe".
 */
export function bloomMayContain(logsBloom: Hex | null | undefined, address: Address): boolean {
  if (logsBloom === null || logsBloom === undefined || logsBloom.length !== 2 + 2 * BLOOM_BYTES) return true;
  const bloom = hexToBytes(logsBloom);
  const hash = hexToBytes(keccak256(hexToBytes(address)));
  for (let i = 0; i < 6; i += 2) {
    const bit = ((hash[i]! << 8) | hash[i + 1]!) & 2047;
    if ((bloom[BLOOM_BYTES - 1 - (bit >> 3)]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}
