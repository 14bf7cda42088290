export * from "./offline/index.js";
export * from "./online/index.js";
