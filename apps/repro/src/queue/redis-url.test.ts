import { KoraError } from "@kora/spec";
import { describe, expect, it } from "vitest";
import { checkQueueName, parseQueueUrl } from "./redis-url";

const rejects = (value: string, pattern: RegExp) => {
  let caught: unknown = null;
  try {
    parseQueueUrl(value);
  } catch (error) {
    caught = error;
  }
  expect(KoraError.isInstance(caught), value).toBe(true);
  expect((caught as KoraError).code).toBe("INVALID_ARGUMENT");
  expect((caught as KoraError).path).toBe("--queue");
  expect((caught as KoraError).message).toMatch(pattern);
};

describe("parseQueueUrl", () => {
  it("reads host, port, database and credentials, and never shows the password", () => {
    const parsed = parseQueueUrl("redis://worker:s%40cret@queue.lab:6380/2");
    expect(parsed.options).toMatchObject({
      host: "queue.lab",
      port: 6380,
      db: 2,
      username: "worker",
      password: "s@cret",
    });
    expect(parsed.display).toBe("redis://queue.lab:6380/2");
    expect(parseQueueUrl("redis://127.0.0.1").options).toMatchObject({
      host: "127.0.0.1",
      port: 6379,
      db: 0,
    });
    expect(parseQueueUrl("rediss://[::1]:7000").options).toMatchObject({
      host: "::1",
      port: 7000,
      tls: { servername: "::1" },
    });
  });

  it("refuses what is not a Redis URL, naming --queue and what was expected", () => {
    rejects("queue.lab", /--queue must be a Redis URL, redis:\/\/host\[:port\]\[\/db\].*got "queue.lab"/);
    rejects("localhost:6379", /got the scheme "localhost:"/);
    rejects("http://queue.lab", /got the scheme "http:"/);
    rejects("redis://queue.lab/x", /database number 0-15, got "\/x"/);
    rejects("redis://queue.lab/16", /database number 0-15/);
    rejects("redis://queue.lab?db=1", /without \?query/);
  });
});

describe("checkQueueName", () => {
  it("keeps names BullMQ can put in its keys and refuses the rest", () => {
    expect(checkQueueName("paper-vit-b16.v2")).toBe("paper-vit-b16.v2");
    for (const bad of ["a:b", "", "-x", "x".repeat(101)]) {
      expect(() => checkQueueName(bad)).toThrow(/--queue-name must be 1-100 letters/);
    }
  });
});
