import { KoraError } from "@kora/spec";

/** Awaits `promise` and returns the KoraError it rejects with; anything else (or no rejection) fails the test. */
export async function rejection(promise: Promise<unknown>): Promise<KoraError> {
  try {
    await promise;
  } catch (error) {
    if (KoraError.isInstance(error)) return error;
    throw error;
  }
  throw new Error("expected a KoraError");
}
