import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "./passwords.js";

describe("password hashing (scrypt)", () => {
  it("verifies the right password only, with a per-hash salt", async () => {
    const h1 = await hashPassword("s3cret", 2 ** 10);
    const h2 = await hashPassword("s3cret", 2 ** 10);
    expect(h1).toMatch(/^scrypt\$1024\$8\$1\$/);
    expect(h1).not.toBe(h2);
    expect(await verifyPassword("s3cret", h1)).toBe(true);
    expect(await verifyPassword("s3cret ", h1)).toBe(false);
    expect(await verifyPassword("", h1)).toBe(false);
  });

  it("normalises Unicode so the same password typed differently matches", async () => {
    const h = await hashPassword("caf\u00e9", 2 ** 10);
    expect(await verifyPassword("cafe\u0301", h)).toBe(true);
  });

  it("treats unparseable hashes as a mismatch", async () => {
    expect(await verifyPassword("x", "plain")).toBe(false);
    expect(await verifyPassword("x", "scrypt$a$b$c$d$e")).toBe(false);
  });
});
