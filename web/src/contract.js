// The documents' fields as the contract declares them (functions/common/contract.json,
// bundled at build time): the page reads no field the workflows and functions do not
// write. A read of an undeclared field is reported on the console, where the browser
// tests fail on it, instead of silently reading `undefined` forever.

// Only the documents: esbuild leaves the rest of the file (the functions' settings) out of the page.
import { documents } from "../../functions/common/contract.json";

// Not fields: the document id the store adds, and what the language itself looks up.
const NOT_FIELDS = new Set(["id", "toJSON", "then"]);

/** `document` as it is, watched for reads of fields the contract's `kind` does not declare. */
export function checked(kind, document) {
  const declared = new Set(documents[kind]);
  return new Proxy(document, {
    get(target, property, receiver) {
      if (typeof property === "string" && !declared.has(property) && !NOT_FIELDS.has(property) && !(property in Object.prototype)) {
        console.error(`contract: the page read ${kind}.${property}, which functions/common/contract.json does not declare`);
      }
      return Reflect.get(target, property, receiver);
    },
  });
}
