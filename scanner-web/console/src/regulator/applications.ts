/** The review of applications to join (shared/applications.ts), bound to the regulator console's state. */
import { applicationReview } from "../shared/applications.ts";
import { flashRegion, render, state } from "./state.ts";

export type { ApplicationReview } from "../shared/applications.ts";

const review = applicationReview({ api: () => state.api, lang: () => state.lang, flashRegion, render });

export const applicationsView = review.view;
export const loadApplications = review.load;
