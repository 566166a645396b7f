/** Test helper: run a function that must throw a given error class, and get the error back. */
import { InputErrors } from "../../planning/errors";

/** Runs `fn`, expects it to throw an instance of `kind`, and returns it. */
export function thrownBy<E extends Error>(kind: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(kind);
    return e as E;
  }
  throw new Error(`expected a ${kind.name} to be thrown, nothing was`);
}

/** Runs `fn`, expects an InputErrors, and returns it. */
export function inputErrorOf(fn: () => unknown): InputErrors {
  return thrownBy(InputErrors, fn);
}
