// Opaque offsets and checkpoints: a small JSON state in a string only this process reads.
// The hub hands them back verbatim; an HMAC over each tells the ones this bridge gave from
// anything else. The key is drawn at start, as the CRM is in memory: after a restart the
// data a checkpoint measured is gone, and its signature no longer matches either.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const SIGNATURE_BYTES = 16;
const LONGEST = 1024;

export class StateCodec {
  #key;
  #purpose;

  /** `purpose` tells the strings of different codecs apart (offsets from checkpoints). */
  constructor(purpose, key = randomBytes(32)) {
    this.#purpose = purpose;
    this.#key = key;
  }

  encode(state) {
    const payload = Buffer.from(JSON.stringify(state));
    return `${payload.toString('base64url')}.${this.#sign(payload).toString('base64url')}`;
  }

  /** The state `value` stands for, or undefined when this codec did not produce it. */
  decode(value) {
    const parts = value.length <= LONGEST ? value.split('.') : [];
    if (parts.length !== 2) {
      return undefined;
    }
    const [payload, signature] = parts.map((part) => Buffer.from(part, 'base64url'));
    const expected = this.#sign(payload);
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      return undefined;
    }
    return JSON.parse(payload.toString());
  }

  #sign(payload) {
    const mac = createHmac('sha256', this.#key);
    mac.update(`${this.#purpose}\0`);
    mac.update(payload);
    return mac.digest().subarray(0, SIGNATURE_BYTES);
  }
}
