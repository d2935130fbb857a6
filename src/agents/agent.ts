/** The agents' side of the contract: it lives in `src/contract/`, which the controller imports too. */
export * from "../contract/agent.js";
