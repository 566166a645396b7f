/** Test helper: run a function that must throw InputErrors, and get the error back. */
import { InputErrors } from "../../planning/errors";

/** Runs `fn`, expects an InputErrors, and returns it. */
export function inputErrorOf(fn: () => unknown): InputErrors {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InputErrors);
    return e as InputErrors;
  }
  throw new Error("expected an InputErrors, nothing was thrown");
}
