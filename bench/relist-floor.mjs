// The idle rows' floor, run as its own process so its CPU can be read apart: a bare grpc-js client
// that does what the PLEG's relist does, one ListPodSandbox+ListContainers pair every period (the
// kubelet's 1 s), and nothing else. `node relist-floor.mjs ENDPOINT PERIOD_MS WARM_PAIRS`: it first
// sends WARM_PAIRS pairs back to back, so its code is as compiled as a long-running agent's, then
// prints "ready" and relists until it is killed.
import { setTimeout as sleep } from "node:timers/promises";
import { ListContainersRequest, ListPodSandboxRequest, RuntimeServiceService as svc } from "@nodelet/cri-api";
import { createBareClient } from "./cri-floor.mjs";

const [endpoint, periodMs, warmPairs] = process.argv.slice(2);
const { call } = createBareClient(endpoint);
// Both lists at once, as kuberuntime's listPods sends them.
const pair = () =>
  Promise.all([
    call(svc.listPodSandbox, ListPodSandboxRequest.fromPartial({})),
    call(svc.listContainers, ListContainersRequest.fromPartial({})),
  ]);
for (let i = 0; i < Number(warmPairs); i++) await pair();
process.stdout.write("ready\n");
for (;;) {
  await pair();
  await sleep(Number(periodMs));
}
