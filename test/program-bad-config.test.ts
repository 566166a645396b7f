/** The program with invalid stack config: one clear error, and nothing registered. */
import { installMocks, setStackConfig, settled, stackConfig } from "./helpers/pulumi-mocks";
import { InputErrors } from "../planning/errors";

const registered = installMocks("dev");

it("refuses bad config with every problem named and registers no resource", async () => {
  const raw = stackConfig("dev");
  setStackConfig({ ...raw, targetVersion: "1.99", ssh: { user: "Root Admin", port: 70000 } });
  const failure = import("../index").then((program) => program.default());
  await expect(failure).rejects.toBeInstanceOf(InputErrors);
  await expect(failure).rejects.toThrow(/targetVersion: names a minor the release catalogue does not know/);
  await expect(failure).rejects.toThrow(/ssh\.user: is not a user name/);
  await expect(failure).rejects.toThrow(/ssh\.port: is not a whole number from 1 to 65535 \(got 70000\)/);
  await settled();
  expect(registered).toEqual([]);
});
