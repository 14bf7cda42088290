import { describeIssuerScenarios } from "./scenarios/index.js";
import { IssuerFixture } from "./testing.js";

describeIssuerScenarios("SQLite", () => IssuerFixture.open());
