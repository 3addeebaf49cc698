export * from "./checks";
export * from "./configmaps";
export * from "./library";
export * from "./model";
