export * from "./dataTier";
export * from "./dependencies";
export * from "./podIdentityRole";
export * from "./restrictedNamespace";
export * from "./securityContext";
export * from "./systemNamespace";
export * from "./workload";
