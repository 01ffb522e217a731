import js from "@eslint/js";
import tseslint from "typescript-eslint";

import { importBoundaryConfigs } from "./scripts/lib/import-boundaries.ts";
import { queryBoundaryConfigs } from "./scripts/lib/query-boundary.ts";

export default tseslint.config(
  {
    ignores: [
      "node_modules/",
      ".toolchain/",
      "artifacts/",
      "cache/",
      "coverage/",
      "types/",
      ".data/",
      "scanner-web/dist/",
      "ignition/deployments/",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": [
        "error",
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: "package", package: "node:test", name: ["describe", "it", "test", "suite"] },
          ],
        },
      ],
      "@typescript-eslint/strict-boolean-expressions": [
        "error",
        { allowNullableBoolean: true, allowNullableString: false },
      ],
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["**/*.js"],
    ...tseslint.configs.disableTypeChecked,
  },
  // A lower layer never imports a higher one (docs/architecture.md).
  ...importBoundaryConfigs(),
  // Only the repositories of server/src/storage/ build queries (docs/architecture.md).
  ...queryBoundaryConfigs(),
);
