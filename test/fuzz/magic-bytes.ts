/**
 * The coverage loop's own test target (coverage.test.ts): each byte of "BAD" opens one more
 * branch, and only the last one fails. One byte edit per exec from the all-zero seed can never
 * reach it blind; the loop gets there only by keeping "B" and then "BA" for their new coverage.
 */
export function magicBytes(input: Uint8Array): string[] {
  if (input[0] !== 0x42) return [];
  if (input[1] !== 0x41) return [];
  if (input[2] !== 0x44) return [];
  return ['reached "BAD"'];
}
