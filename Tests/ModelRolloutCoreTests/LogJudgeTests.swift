import Foundation
import Testing

@testable import ModelRolloutCore

/// A log snippet and what the judge must conclude from it.
struct LogCase: Sendable, CustomTestStringConvertible {
    let name: String
    let log: String
    let runtime: LogJudgement.Runtime
    let phase: LogJudgement.Phase
    let loaded: Bool
    let seconds: Double?
    let ready: Bool
    let reason: String?

    var testDescription: String { name }
}

private let esc = "\u{1B}"

// MARK: - Realistic snippets

private let vllm04 = """
    INFO 05-24 22:18:20 api_server.py:149] vLLM API server version 0.4.2
    INFO 05-24 22:18:20 api_server.py:150] args: Namespace(host=None, port=8000, model='facebook/opt-125m')
    INFO 05-24 22:18:21 llm_engine.py:100] Initializing an LLM engine (v0.4.2) with config: model='facebook/opt-125m'
    INFO 05-24 22:18:27 model_runner.py:146] Loading model weights took 0.2389 GB
    INFO 05-24 22:18:28 gpu_executor.py:83] # GPU blocks: 37, # CPU blocks: 655
    INFO:     Started server process [1]
    INFO:     Waiting for application startup.
    INFO:     Application startup complete.
    INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
    """

private let vllm06 = """
    INFO 09-10 10:00:00 api_server.py:459] vLLM API server version 0.6.1
    INFO 09-10 10:00:05 model_runner.py:1014] Starting to load model meta-llama/Llama-3.1-8B-Instruct...
    INFO 09-10 10:02:10 model_runner.py:1025] Loading model weights took 14.9888 GB
    INFO 09-10 10:02:20 launcher.py:19] Available routes are:
    INFO 09-10 10:02:20 launcher.py:27] Route: /v1/models, Methods: GET
    INFO:     Started server process [7]
    INFO:     Waiting for application startup.
    INFO:     Application startup complete.
    INFO:     Uvicorn running on socket ('0.0.0.0', 8000) (Press CTRL+C to quit)
    """

private let vllm08TP = """
    INFO 03-20 08:00:00 [__init__.py:239] Automatically detected platform cuda.
    INFO 03-20 08:00:01 [api_server.py:981] vLLM API server version 0.8.2
    (VllmWorker rank=0 pid=101) INFO 03-20 08:00:10 [gpu_model_runner.py:1174] Starting to load model m...
    (VllmWorker rank=1 pid=102) INFO 03-20 08:00:10 [gpu_model_runner.py:1174] Starting to load model m...
    (VllmWorker rank=0 pid=101) INFO 03-20 08:05:00 [loader.py:458] Loading weights took 290.12 seconds
    (VllmWorker rank=1 pid=102) INFO 03-20 08:05:01 [loader.py:458] Loading weights took 291.50 seconds
    (VllmWorker rank=0 pid=101) INFO 03-20 08:05:02 [gpu_model_runner.py:1186] \
    Model loading took 51.8837 GB and 700.250000 seconds
    (VllmWorker rank=1 pid=102) INFO 03-20 08:05:03 [gpu_model_runner.py:1186] \
    Model loading took 51.8837 GB and 716.673510 seconds
    INFO 03-20 08:06:00 [api_server.py:1024] Starting vLLM API server on http://0.0.0.0:8000
    INFO 03-20 08:06:00 [launcher.py:26] Available routes are:
    INFO:     Started server process [1]
    INFO:     Waiting for application startup.
    INFO:     Application startup complete.
    """

private let vllm011 = """
    (APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1896] vLLM API server version 0.11.0
    (APIServer pid=1) INFO 10-01 12:00:00 [utils.py:233] non-default args: {'model': 'Qwen/Qwen3-8B'}
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:20 [gpu_model_runner.py:2602] Starting to load model Qwen/Qwen3-8B...
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:40 [default_loader.py:267] Loading weights took 12.02 seconds
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:41 [gpu_model_runner.py:2653] \
    Model loading took 15.2683 GiB and 19.310000 seconds
    (APIServer pid=1) INFO 10-01 12:01:30 [api_server.py:1971] Starting vLLM API server 0 on http://0.0.0.0:8000
    (APIServer pid=1) INFO 10-01 12:01:30 [launcher.py:34] Available routes are:
    (APIServer pid=1) INFO 10-01 12:01:30 [launcher.py:42] Route: /v1/models, Methods: GET
    (APIServer pid=1) INFO:     Started server process [1]
    (APIServer pid=1) INFO:     Waiting for application startup.
    (APIServer pid=1) INFO:     Application startup complete.
    """

private let vllm012 = """
    (APIServer pid=1) INFO 12-01 09:00:00 [api_server.py:1] vLLM server version 0.14.0, serving model x/y
    (EngineCore_DP0 pid=50) INFO 12-01 09:00:10 [gpu_model_runner.py:3] Starting to load model x/y...
    (Worker_TP0 pid=60) INFO 12-01 09:00:42 [gpu_model_runner.py:4] \
    Model loading took 7.12 GiB memory and 32.969258 seconds
    (Worker_TP1 pid=61) INFO 12-01 09:00:43 [gpu_model_runner.py:4] \
    Model loading took 7.12 GiB memory and 33.5 seconds
    (EngineCore_DP0 pid=50) INFO 12-01 09:01:20 [core.py:9] \
    init engine (profile, create kv cache, warmup model) took 113.22 s (compilation: 30.34 s)
    (APIServer pid=1) INFO 12-01 09:01:30 [api_server.py:5] Starting vLLM server on http://0.0.0.0:8000
    (APIServer pid=1) INFO:     Application startup complete.
    """

private let vllmMRV2 = """
    (APIServer pid=1) INFO 02-01 09:00:00 [api_server.py:1] vLLM server version 0.30.0, serving model m
    (EngineCore pid=50) INFO 02-01 09:00:10 [model_runner.py:3] Loading model from scratch...
    (EngineCore pid=50) INFO 02-01 09:00:42 [model_runner.py:4] Model loading took 7.64 GiB and 32.969258 seconds
    """

private let ansiCRLF =
    "\(esc)[1;36m(APIServer pid=1)\(esc)[0;0m INFO 10-01 12:00:00 [api_server.py:1] vLLM API server version 0.10.1\r\n"
    + "\(esc)[1;36m(EngineCore_0 pid=9)\(esc)[0;0m INFO 10-01 12:00:41 [gpu_model_runner.py:2] "
    + "Model loading took 15.27 GiB and 19.5 seconds\r\n"
    + "\(esc)[1;36m(APIServer pid=1)\(esc)[0;0m INFO:     Application startup complete.\r\n"

private let lostEsc =
    "\u{FFFD}[1;36m(APIServer pid=1)\u{FFFD}[0;0m INFO 10-01 12:00:00 [api_server.py:1] "
    + "vLLM API server version 0.10.1\n"
    + "[1;36m(EngineCore_DP0 pid=9)[0;0m INFO 10-01 12:00:41 [gpu_model_runner.py:2] "
    + "Model loading took 15.27 GiB and 21.25 seconds\n"

private let kubectlTimestamps = """
    2025-08-12T08:40:00.123456789Z (APIServer pid=1) INFO 08-12 10:40:00 [api_server.py:1] \
    vLLM API server version 0.10.0
    2025-08-12T08:42:39.000000001Z (EngineCore_DP0 pid=7) INFO 08-12 10:42:39 [gpu_model_runner.py:2] \
    Model loading took 7.1217 GiB and 170.700889 seconds
    2025-08-12T08:43:00.5Z (APIServer pid=1) INFO:     Application startup complete.
    """

private let ciPrefix = """
    [2025-08-12T08:40:00Z] INFO 08-12 08:40:00 [api_server.py:1] vLLM API server version 0.9.0
    [2025-08-12T08:42:39Z] (VllmWorker rank=0 pid=3) INFO 08-12 08:42:39 [gpu_model_runner.py:2] \
    Model loading took 7.1217 GiB and 42.5 seconds
    [2025-08-12T08:43:00Z] INFO:     Application startup complete.
    """

private let journaldLocalized = """
    авг 12 08:40:00 gpu-node-1 vllm[4242]: INFO 08-12 08:40:00 [api_server.py:1] vLLM API server version 0.9.0
    авг 12 08:42:39 gpu-node-1 vllm[4242]: INFO 08-12 08:42:39 [gpu_model_runner.py:2] \
    Model loading took 7.1217 GiB and 99.0 seconds
    авг 12 08:43:00 gpu-node-1 vllm[4242]: INFO:     Application startup complete.
    """

private let rayNested = """
    (ServeReplica:default:VLLMDeployment pid=10) (EngineCore pid=11) (RayWorkerProc pid=12) INFO 01-01 00:00:00 \
    [gpu_model_runner.py:2] Model loading took 3.0 GiB and 8.5 seconds
    (RayWorkerWrapper pid=13, ip=10.0.0.2) INFO 01-01 00:00:01 model_runner.py:2] Loading model weights took 3.0 GB
    """

private let failureAfterLoad = vllm011 + """

    (EngineCore_DP0 pid=200) ERROR 10-01 12:01:40 [core.py:700] EngineCore failed to start.
    (EngineCore_DP0 pid=200) ERROR 10-01 12:01:40 [core.py:700] Traceback (most recent call last):
    (EngineCore_DP0 pid=200) ERROR 10-01 12:01:40 [core.py:700] torch.OutOfMemoryError: CUDA out of memory. \
    Tried to allocate 2.00 GiB.
    """

private let oomInsteadOfLoad = """
    (APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1896] vLLM API server version 0.11.0
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:20 [gpu_model_runner.py:2602] Starting to load model big/model...
    (EngineCore_DP0 pid=200) ERROR 10-01 12:00:30 [core.py:708] Traceback (most recent call last):
    (EngineCore_DP0 pid=200) ERROR 10-01 12:00:30 [core.py:708] torch.OutOfMemoryError: CUDA out of memory.
    (APIServer pid=1) RuntimeError: Engine core initialization failed. See root cause above.
    """

private let hub401 = """
    INFO 05-24 22:18:20 api_server.py:149] vLLM API server version 0.5.0
    requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://huggingface.co/meta/x/config.json
    """

private let invalidModel = """
    INFO 05-24 22:18:20 api_server.py:149] vLLM API server version 0.6.0
    OSError: nope/missing is not a local folder and is not a valid model identifier listed on 'https://hf.co/models'
    """

private let noKernel = vllm06 + """

    RuntimeError: CUDA error: no kernel image is available for execution on the device
    """

private let startupFailed = """
    (APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1896] vLLM API server version 0.11.0
    (EngineCore_DP0 pid=2) INFO 10-01 12:00:41 [gpu_model_runner.py:2653] Model loading took 15.2 GiB and 19.3 seconds
    (APIServer pid=1) INFO:     Waiting for application startup.
    (APIServer pid=1) ERROR:    Application startup failed. Exiting.
    """

private let killed = """
    INFO 05-24 22:18:27 model_runner.py:146] Loading model weights took 0.2389 GB
    ERROR 05-24 22:18:30 multiproc_worker_utils.py:120] Killing local vLLM worker processes
    """

private let routesOnly = """
    (APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1896] vLLM API server version 0.11.0
    (EngineCore_DP0 pid=2) INFO 10-01 12:00:41 [gpu_model_runner.py:2653] Model loading took 15.2 GiB and 19.3 seconds
    (APIServer pid=1) INFO 10-01 12:01:30 [launcher.py:34] Available routes are:
    (APIServer pid=1) INFO 10-01 12:01:30 [launcher.py:42] Route: /v1/models, Methods: GET
    (APIServer pid=1) INFO:     Started server process [1]
    """

private let startupBeforeLoad = """
    INFO:     Application startup complete.
    INFO 05-24 22:18:27 model_runner.py:146] Loading model weights took 0.2389 GB
    """

private let sglang = """
    [2025-03-27 21:30:00] server_args=ServerArgs(model_path='Qwen/Qwen2.5-7B', tp_size=2)
    [2025-03-27 21:33:30 TP0] Load weight begin. avail mem=139.21 GB
    [2025-03-27 21:33:30 TP0] Load weight end. elapsed=653.47 s, type=Qwen2ForCausalLM, dtype=torch.bfloat16
    [2025-03-27 21:33:31 TP1] Load weight end. elapsed=655.00 s, type=Qwen2ForCausalLM, dtype=torch.bfloat16
    [2025-03-27 21:33:35 TP0] KV Cache is allocated.
    [2025-03-27 21:34:00] INFO:     Application startup complete.
    [2025-03-27 21:34:01] The server is fired up and ready to roll!
    """

private let sglangOld = """
    [2025-03-27 21:33:30 TP0] Load weight end. type=LlamaForCausalLM, dtype=torch.bfloat16, avail mem=131.08 GB
    """

private let tgi = """
    2024-05-01T10:00:00.000000Z  INFO text_generation_launcher: Args { model_id: "bigscience/bloom-560m" }
    2024-05-01T10:00:00.100000Z  INFO text_generation_launcher: Starting shard rank=0
    2024-05-01T10:00:05.000000Z  INFO text_generation_launcher: Waiting for shard to be ready... rank=0
    2024-05-01T10:00:12.300000Z  INFO shard-manager: text_generation_launcher: Shard ready in 12.3s rank=0
    2024-05-01T10:00:13.000000Z  INFO text_generation_launcher: Starting Webserver
    2024-05-01T10:00:14.000000Z  INFO text_generation_router: router/src/main.rs:300: Connected
    """

private let aphrodite = """
    INFO:     Aphrodite Engine version 0.6.0
    INFO 05-24 22:18:27 model_runner.py:146] Model loading took 7.1 GiB and 40.0 seconds
    INFO:     Application startup complete.
    """

private let modelNamedLikeFork = """
    (APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1] vLLM API server version 0.11.0
    (EngineCore_DP0 pid=2) INFO 10-01 12:00:20 [gpu_model_runner.py:2] Starting to load model org/aphrodite-7b...
    (EngineCore_DP0 pid=2) INFO 10-01 12:00:41 [gpu_model_runner.py:3] Model loading took 15.2 GiB and 19.3 seconds
    (APIServer pid=1) INFO:     Application startup complete.
    """


// MARK: - Class 1: readiness proven only by the ASGI server's lines (vLLM 0.2/0.3 print no load line)

/// vLLM 0.2.7 OpenAI server: engine banner, the V0 KV-cache line, uvicorn's four lines.
private let vllm027 = """
    INFO 01-10 09:00:00 api_server.py:727] args: Namespace(host=None, port=8000, model='mistralai/Mistral-7B-v0.1')
    INFO 01-10 09:00:01 llm_engine.py:73] Initializing an LLM engine with config: model='mistralai/Mistral-7B-v0.1', \
    tokenizer='mistralai/Mistral-7B-v0.1', dtype=torch.bfloat16, max_seq_len=32768, tensor_parallel_size=1, seed=0)
    INFO 01-10 09:03:10 llm_engine.py:223] # GPU blocks: 2048, # CPU blocks: 2048
    INFO:     Started server process [1]
    INFO:     Waiting for application startup.
    INFO:     Application startup complete.
    INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
    """

/// vLLM 0.3.0 with the engine's lines filtered out of the excerpt: the banner and uvicorn only.
private let vllm030BannerUvicorn = """
    INFO 02-01 10:00:00 llm_engine.py:79] Initializing an LLM engine with config: model='facebook/opt-125m'
    INFO:     Started server process [7]
    INFO:     Waiting for application startup.
    INFO:     Application startup complete.
    """

/// vLLM 0.2.x demo server (`vllm.entrypoints.api_server`): no startup-complete line, only `Uvicorn running on`.
private let vllm02DemoServer = """
    INFO 11-20 08:00:00 llm_engine.py:72] Initializing an LLM engine with config: model='lmsys/vicuna-7b-v1.5'
    INFO:     Uvicorn running on http://0.0.0.0:8000 (Press CTRL+C to quit)
    """

/// Neighbour: uvicorn's lines with no sign of vLLM could be any ASGI server.
private let uvicornOnly = """
    INFO:     Started server process [1]
    INFO:     Waiting for application startup.
    INFO:     Application startup complete.
    """

/// Neighbour: a 0.8 log whose load started and never finished does not become ready from uvicorn's lines.
private let loadPendingUvicorn = """
    INFO 03-20 08:00:01 [api_server.py:981] vLLM API server version 0.8.2
    INFO 03-20 08:00:10 [gpu_model_runner.py:1174] Starting to load model m...
    INFO:     Application startup complete.
    """

/// Neighbour: the server process started but startup has not completed.
private let uvicornStarting = """
    INFO 01-10 09:00:01 llm_engine.py:73] Initializing an LLM engine with config: model='m'
    INFO:     Started server process [1]
    INFO:     Waiting for application startup.
    """

// MARK: - Class 2: V1 excerpts that start after the banner (`kubectl logs --since`, `--tail`, rotation)

/// vLLM 0.10.1 `--tail 2`: the engine-init line under `EngineCore_0`, then the API server's startup line.
private let v1TailServing = """
    (EngineCore_0 pid=300) INFO 08-20 10:00:00 [core.py:215] init engine (profile, create kv cache, warmup model) \
    took 1.06 seconds
    (APIServer pid=1) INFO:     Application startup complete.
    """

/// vLLM 0.11 `--since`: KV-cache lines under `EngineCore_DP0`, the server not up yet.
private let v1KVCacheExcerpt = """
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:50 [kv_cache_utils.py:1087] GPU KV cache size: 120,416 tokens
    (EngineCore_DP0 pid=200) INFO 10-01 12:00:50 [kv_cache_utils.py:1091] Maximum concurrency for 8,192 tokens \
    per request: 14.70x
    """

/// vLLM 0.10 tensor parallel, rotated mid-load: only `Worker_TP0`/`Worker_TP1` lines.
private let v1WorkerLoading = """
    (Worker_TP0 pid=400) INFO 09-01 09:00:00 [gpu_model_runner.py:1953] Starting to load model meta/llama-70b...
    (Worker_TP1 pid=401) INFO 09-01 09:00:00 [gpu_model_runner.py:1953] Starting to load model meta/llama-70b...
    """

/// vLLM 0.24-style engine-init line (unit `s`, a suffix) under a bare `EngineCore` tag.
private let v1EngineInitNewUnit = """
    (EngineCore pid=5) INFO 06-01 07:00:00 [core.py:250] init engine (profile, create kv cache, warmup model) \
    took 113.22 s (compilation: 30.34 s)
    """

/// vLLM 0.11 `--tail 3` of a serving pod: only the API server's uvicorn lines.
private let v1ApiServerTail = """
    (APIServer pid=1) INFO:     Started server process [1]
    (APIServer pid=1) INFO:     Waiting for application startup.
    (APIServer pid=1) INFO:     Application startup complete.
    """

// MARK: - Class 3: the engine dies after the server started

/// vLLM 0.6.3 multiprocess engine (`MQLLMEngine`): the engine process dies while serving; the server shuts down.
private let v0EngineProcessDied = vllm06 + """

    ERROR 10-15 12:30:00 client.py:250] RuntimeError('Engine process (pid 57) died.')
    ERROR 10-15 12:30:00 client.py:250] NoneType: None
    CRITICAL 10-15 12:30:01 launcher.py:99] MQLLMEngine is already dead, terminating server process
    INFO:     10.0.0.5:51234 - "POST /v1/chat/completions HTTP/1.1" 500 Internal Server Error
    INFO:     Shutting down
    INFO:     Waiting for application shutdown.
    INFO:     Application shutdown complete.
    INFO:     Finished server process [7]
    """

/// vLLM 0.5.x `AsyncLLMEngine`: the background loop errors while serving.
private let v0AsyncEngineDead = vllm04 + """

    ERROR 06-01 10:00:00 async_llm_engine.py:52] Engine background task failed
    ERROR 06-01 10:00:00 async_llm_engine.py:52] Traceback (most recent call last):
    vllm.engine.async_llm_engine.AsyncEngineDeadError: Background loop has errored already.
    CRITICAL 06-01 10:00:01 launcher.py:82] AsyncLLMEngine is already dead, terminating server process
    INFO:     Shutting down
    """

/// vLLM 0.11 V1: the engine core hits a fatal error while serving.
private let v1EngineCoreDead = vllm011 + """

    (EngineCore_DP0 pid=200) ERROR 10-01 13:00:00 [core.py:710] EngineCore encountered a fatal error.
    (EngineCore_DP0 pid=200) ERROR 10-01 13:00:00 [core.py:710] Traceback (most recent call last):
    (APIServer pid=1) ERROR 10-01 13:00:00 [async_llm.py:480] AsyncLLM output_handler failed.
    (APIServer pid=1) vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue. See stack trace \
    (above) for the root cause.
    """

/// vLLM 0.10 V1: a tensor-parallel worker dies; the executor shuts down.
private let v1WorkerDied = vllm011 + """

    (EngineCore_DP0 pid=200) ERROR 10-01 13:00:00 [multiproc_executor.py:149] Worker proc VllmWorker-1 died \
    unexpectedly, shutting down executor.
    """

/// vLLM 0.9 V1: the API server sees the engine core process die.
private let v1EngineProcDied = vllm011 + """

    (APIServer pid=1) ERROR 10-01 13:00:00 [core_client.py:564] Engine core proc EngineCore_DP0 died unexpectedly, \
    shutting down client.
    """

/// The root cause outranks the component that died: CUDA OOM while serving, then the engine is dead.
private let v1OOMThenDead = vllm011 + """

    (EngineCore_DP0 pid=200) ERROR 10-01 13:00:00 [core.py:710] EngineCore encountered a fatal error.
    (EngineCore_DP0 pid=200) ERROR 10-01 13:00:00 [core.py:710] torch.OutOfMemoryError: CUDA out of memory. \
    Tried to allocate 8.00 GiB.
    (APIServer pid=1) vllm.v1.engine.exceptions.EngineDeadError: EngineCore encountered an issue.
    """

/// Neighbour: a graceful stop (SIGTERM) after serving is not a failure, but no longer serving.
private let v1GracefulStop = vllm011 + """

    (APIServer pid=1) INFO:     Shutting down
    (APIServer pid=1) INFO:     Waiting for application shutdown.
    (APIServer pid=1) INFO:     Application shutdown complete.
    (APIServer pid=1) INFO:     Finished server process [1]
    """

let logCases: [LogCase] = [
    LogCase(name: "empty", log: "", runtime: .unknown, phase: .unknown, loaded: false, seconds: nil,
        ready: false, reason: nil),
    LogCase(name: "vLLM 0.4 V0", log: vllm04, runtime: .vllm, phase: .serving, loaded: true, seconds: nil,
        ready: true, reason: nil),
    LogCase(name: "vLLM 0.6 routes then startup", log: vllm06, runtime: .vllm, phase: .serving, loaded: true,
        seconds: nil, ready: true, reason: nil),
    LogCase(name: "vLLM 0.8 TP=2 takes max rank", log: vllm08TP, runtime: .vllm, phase: .serving, loaded: true,
        seconds: 716.67351, ready: true, reason: nil),
    LogCase(name: "vLLM 0.11 APIServer/EngineCore tags", log: vllm011, runtime: .vllm, phase: .serving,
        loaded: true, seconds: 19.31, ready: true, reason: nil),
    LogCase(name: "vLLM 0.14 GiB memory, TP max", log: vllm012, runtime: .vllm, phase: .serving, loaded: true,
        seconds: 33.5, ready: true, reason: nil),
    LogCase(name: "Model Runner V2 loaded", log: vllmMRV2, runtime: .vllm, phase: .modelLoaded, loaded: true,
        seconds: 32.969258, ready: false, reason: nil),
    LogCase(name: "MRV2 loading only", log: String(vllmMRV2.split(separator: "\n").prefix(2).joined(separator: "\n")),
        runtime: .vllm, phase: .loadingModel, loaded: false, seconds: nil, ready: false, reason: nil),
    LogCase(name: "banner only", log: String(vllm04.split(separator: "\n")[0]), runtime: .vllm, phase: .starting,
        loaded: false, seconds: nil, ready: false, reason: nil),
    LogCase(name: "ANSI tags and CRLF", log: ansiCRLF, runtime: .vllm, phase: .serving, loaded: true,
        seconds: 19.5, ready: true, reason: nil),
    LogCase(name: "lost ESC remnants", log: lostEsc, runtime: .vllm, phase: .modelLoaded, loaded: true,
        seconds: 21.25, ready: false, reason: nil),
    LogCase(name: "kubectl --timestamps", log: kubectlTimestamps, runtime: .vllm, phase: .serving, loaded: true,
        seconds: 170.700889, ready: true, reason: nil),
    LogCase(name: "CI prefix", log: ciPrefix, runtime: .vllm, phase: .serving, loaded: true, seconds: 42.5,
        ready: true, reason: nil),
    LogCase(name: "journald localized month", log: journaldLocalized, runtime: .vllm, phase: .serving,
        loaded: true, seconds: 99, ready: true, reason: nil),
    LogCase(name: "Ray Serve nested tags", log: rayNested, runtime: .vllm, phase: .modelLoaded, loaded: true,
        seconds: 8.5, ready: false, reason: nil),
    LogCase(name: "failure after ready", log: failureAfterLoad, runtime: .vllm, phase: .failed, loaded: true,
        seconds: 19.31, ready: false, reason: "CUDA out of memory"),
    LogCase(name: "OOM instead of load", log: oomInsteadOfLoad, runtime: .vllm, phase: .failed, loaded: false,
        seconds: nil, ready: false, reason: "CUDA out of memory"),
    LogCase(name: "hub 401", log: hub401, runtime: .vllm, phase: .failed, loaded: false, seconds: nil,
        ready: false, reason: "model hub access denied (HTTP 401)"),
    LogCase(name: "invalid model id", log: invalidModel, runtime: .vllm, phase: .failed, loaded: false,
        seconds: nil, ready: false, reason: "model not found (invalid model identifier)"),
    LogCase(name: "no kernel image after serving", log: noKernel, runtime: .vllm, phase: .failed, loaded: true,
        seconds: nil, ready: false, reason: "CUDA kernel image not available for this GPU"),
    LogCase(name: "application startup failed", log: startupFailed, runtime: .vllm, phase: .failed, loaded: true,
        seconds: 19.3, ready: false, reason: "HTTP server startup failed"),
    LogCase(name: "workers killed", log: killed, runtime: .vllm, phase: .failed, loaded: true, seconds: nil,
        ready: false, reason: "vLLM worker processes killed"),
    LogCase(name: "route listing is not readiness", log: routesOnly, runtime: .vllm, phase: .modelLoaded,
        loaded: true, seconds: 19.3, ready: false, reason: nil),
    LogCase(name: "startup complete before load does not count", log: startupBeforeLoad, runtime: .vllm,
        phase: .modelLoaded, loaded: true, seconds: nil, ready: false, reason: nil),
    LogCase(name: "SGLang serving, TP max elapsed", log: sglang, runtime: .sglang, phase: .serving, loaded: true,
        seconds: 655, ready: true, reason: nil),
    LogCase(name: "SGLang old load line", log: sglangOld, runtime: .sglang, phase: .modelLoaded, loaded: true,
        seconds: nil, ready: false, reason: nil),
    LogCase(name: "TGI connected", log: tgi, runtime: .tgi, phase: .serving, loaded: true, seconds: 12.3,
        ready: true, reason: nil),
    LogCase(name: "Aphrodite fork never vLLM-serving", log: aphrodite, runtime: .unknown, phase: .modelLoaded,
        loaded: true, seconds: 40, ready: false, reason: nil),
    LogCase(name: "model name containing a fork's name is still vLLM", log: modelNamedLikeFork, runtime: .vllm,
        phase: .serving, loaded: true, seconds: 19.3, ready: true, reason: nil),
    // Class 1.
    LogCase(name: "vLLM 0.2.7 KV-cache line then uvicorn", log: vllm027, runtime: .vllm, phase: .serving,
        loaded: true, seconds: nil, ready: true, reason: nil),
    LogCase(name: "vLLM 0.3.0 banner and uvicorn only", log: vllm030BannerUvicorn, runtime: .vllm, phase: .serving,
        loaded: true, seconds: nil, ready: true, reason: nil),
    LogCase(name: "vLLM 0.2 demo server 'Uvicorn running on'", log: vllm02DemoServer, runtime: .vllm,
        phase: .serving, loaded: true, seconds: nil, ready: true, reason: nil),
    LogCase(name: "uvicorn lines alone are no runtime", log: uvicornOnly, runtime: .unknown, phase: .unknown,
        loaded: false, seconds: nil, ready: false, reason: nil),
    LogCase(name: "uvicorn while a load is pending", log: loadPendingUvicorn, runtime: .vllm, phase: .loadingModel,
        loaded: false, seconds: nil, ready: false, reason: nil),
    LogCase(name: "uvicorn waiting for startup", log: uvicornStarting, runtime: .vllm, phase: .starting,
        loaded: false, seconds: nil, ready: false, reason: nil),
    // Class 2.
    LogCase(name: "V1 tail: EngineCore_0 init engine, APIServer startup", log: v1TailServing, runtime: .vllm,
        phase: .serving, loaded: true, seconds: nil, ready: true, reason: nil),
    LogCase(name: "V1 excerpt: EngineCore_DP0 KV cache", log: v1KVCacheExcerpt, runtime: .vllm,
        phase: .modelLoaded, loaded: true, seconds: nil, ready: false, reason: nil),
    LogCase(name: "V1 excerpt: Worker_TP0/TP1 loading", log: v1WorkerLoading, runtime: .vllm, phase: .loadingModel,
        loaded: false, seconds: nil, ready: false, reason: nil),
    LogCase(name: "V1 excerpt: init engine in s with suffix", log: v1EngineInitNewUnit, runtime: .vllm,
        phase: .modelLoaded, loaded: true, seconds: nil, ready: false, reason: nil),
    LogCase(name: "V1 tail: APIServer uvicorn lines only", log: v1ApiServerTail, runtime: .vllm, phase: .serving,
        loaded: true, seconds: nil, ready: true, reason: nil),
    // Class 3.
    LogCase(name: "V0 MQLLMEngine process died", log: v0EngineProcessDied, runtime: .vllm, phase: .failed,
        loaded: true, seconds: nil, ready: false, reason: "engine process died"),
    LogCase(name: "V0 AsyncEngineDeadError", log: v0AsyncEngineDead, runtime: .vllm, phase: .failed, loaded: true,
        seconds: nil, ready: false, reason: "engine background loop died"),
    LogCase(name: "V1 EngineCore fatal error, EngineDeadError", log: v1EngineCoreDead, runtime: .vllm,
        phase: .failed, loaded: true, seconds: 19.31, ready: false, reason: "engine core died"),
    LogCase(name: "V1 worker proc died", log: v1WorkerDied, runtime: .vllm, phase: .failed, loaded: true,
        seconds: 19.31, ready: false, reason: "worker process died"),
    LogCase(name: "V1 engine core proc died", log: v1EngineProcDied, runtime: .vllm, phase: .failed, loaded: true,
        seconds: 19.31, ready: false, reason: "engine core process died"),
    LogCase(name: "OOM outranks the dead engine", log: v1OOMThenDead, runtime: .vllm, phase: .failed, loaded: true,
        seconds: 19.31, ready: false, reason: "CUDA out of memory"),
    LogCase(name: "graceful stop after serving", log: v1GracefulStop, runtime: .vllm, phase: .stopped,
        loaded: true, seconds: 19.31, ready: false, reason: nil),
]

@Suite struct LogJudgeTests {
    @Test(arguments: logCases)
    func judgesSnippet(_ c: LogCase) {
        let j = LogJudge.judge(c.log)
        #expect(j.runtime == c.runtime)
        #expect(j.phase == c.phase)
        #expect(j.modelLoaded == c.loaded)
        #expect(j.serverReady == c.ready)
        #expect(j.failed == (c.phase == .failed))
        #expect(j.failureReason == c.reason)
        if let expected = c.seconds {
            #expect(abs((j.loadSeconds ?? -1) - expected) < 1e-6)
        } else {
            #expect(j.loadSeconds == nil)
        }
        #expect(j.evidence.count <= LogJudge.maxEvidence)
    }

    @Test(arguments: logCases)
    func incrementalFeedingEqualsWholeLog(_ c: LogCase) {
        let whole = LogJudge.judge(c.log)
        let scalars = Array(c.log.unicodeScalars)
        // Several deterministic chunkings, including one scalar at a time.
        for size in [1, 2, 3, 7, 64, 1000] {
            var state = LogJudgeState()
            var i = 0
            while i < scalars.count {
                let end = min(scalars.count, i + size)
                state.feed(String(String.UnicodeScalarView(scalars[i..<end])))
                i = end
                // Reading mid-stream must not disturb the state.
                if size >= 7 { _ = state.judgement }
            }
            #expect(state.judgement == whole, "chunk size \(size)")
        }
    }

    @Test func failureLineProvesTheReason() {
        let oom = LogJudge.judge(v1OOMThenDead)
        #expect(oom.failureLine?.hasSuffix("torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 8.00 GiB.")
            == true)
        #expect(oom.failureLine?.contains("pid=") == false)
        let died = LogJudge.judge(v0EngineProcessDied)
        #expect(died.failureLine == "ERROR 10-15 12:30:00 client.py:250] RuntimeError('Engine process (pid 57) died.')")
        let long = "(APIServer pid=1) INFO 10-01 12:00:00 [api_server.py:1] vLLM API server version 0.11.0\n"
            + "ERROR 10-01 12:00:01 [core.py:1] torch.OutOfMemoryError: CUDA out of memory. "
            + String(repeating: "x", count: 2000)
        let capped = LogJudge.judge(long)
        #expect((capped.failureLine?.count ?? 0) == LogJudge.maxEvidenceLineLength + 1)
        #expect(LogJudge.judge(vllm011).failureLine == nil)
    }

    @Test func crlfSplitAcrossChunks() {
        var state = LogJudgeState()
        state.feed("INFO 05-24 22:18:27 model_runner.py:146] Loading model weights took 0.2 GB\r")
        state.feed("\nINFO:     Application startup complete.\r")
        state.feed("\n")
        #expect(state.judgement.serverReady)
        #expect(state.judgement == LogJudge.judge(
            "INFO 05-24 22:18:27 model_runner.py:146] Loading model weights took 0.2 GB\r\n"
                + "INFO:     Application startup complete.\r\n"))
    }

    @Test func evidenceShowsNormalisedDecidingLines() {
        let j = LogJudge.judge(failureAfterLoad)
        #expect(j.evidence.contains("ERROR 10-01 12:01:40 [core.py:700] EngineCore failed to start."))
        #expect(j.evidence.contains { $0.contains("Model loading took 15.2683 GiB and 19.310000 seconds") })
        #expect(!j.evidence.contains { $0.contains("pid=") })
        // A line that is evidence for two reasons (a process tag and the engine-init message) appears once.
        #expect(LogJudge.judge(v1TailServing).evidence.count == 2)
        let ansi = LogJudge.judge(ansiCRLF)
        #expect(ansi.evidence.contains("INFO:     Application startup complete."))
        #expect(!ansi.evidence.contains { $0.contains("\u{1B}") || $0.contains("[0;0m") })
    }

    @Test func evidenceIsBoundedForManyRanks() {
        var log = "INFO 01-01 00:00:00 [api_server.py:1] vLLM API server version 0.9.0\n"
        for rank in 0..<64 {
            log += "(VllmWorker rank=\(rank) pid=\(rank + 10)) INFO 01-01 00:01:00 [gpu_model_runner.py:2] "
            log += "Model loading took 7.1 GiB and \(100 + rank).5 seconds\n"
            log += "(VllmWorker rank=\(rank) pid=\(rank + 10)) ERROR 01-01 00:02:00 [x.py:1] Traceback "
            log += "(most recent call last):\n"
        }
        let j = LogJudge.judge(log)
        #expect(j.loadSeconds == 163.5)
        #expect(j.failed)
        #expect(j.failureReason == "Python traceback")
        #expect(j.evidence.count <= LogJudge.maxEvidence)
    }

    @Test func loadingWeightsIsSecondaryDuration() {
        let log = """
            (VllmWorker rank=0 pid=1) INFO 03-20 08:05:00 [loader.py:458] Loading weights took 5.43 seconds
            (VllmWorker rank=1 pid=2) INFO 03-20 08:05:00 [loader.py:458] Loading weights took 6.5 seconds
            """
        let j = LogJudge.judge(log)
        #expect(j.loadSeconds == 6.5)
        #expect(j.modelLoaded)
        #expect(j.runtime == .vllm)
    }

    @Test func garbageAndHugeInputNeverCrash() {
        var bytes: [UInt8] = []
        var x: UInt32 = 12345
        for _ in 0..<200_000 {
            x = x &* 1_103_515_245 &+ 12345
            bytes.append(UInt8(truncatingIfNeeded: x >> 16))
        }
        let garbage = String(decoding: bytes, as: UTF8.self)
        let g = LogJudge.judge(garbage)
        #expect(!g.serverReady)
        #expect(g.evidence.count <= LogJudge.maxEvidence)

        // A 1 MiB line without newline; the marker beyond the cap is ignored.
        let huge = String(repeating: "x", count: 1 << 20) + " Application startup failed"
        let h = LogJudge.judge(huge)
        #expect(!h.failed)
        #expect(h.phase == .unknown)
        // A huge line followed by a normal one: the normal line still counts.
        let mixed = String(repeating: "[1;3", count: 100_000) + "\n" + vllm011
        #expect(LogJudge.judge(mixed).serverReady)
        // Truncated mid-line.
        let truncated = String(vllm011.prefix(300))
        #expect(!LogJudge.judge(truncated).serverReady)
        // Odd escape sequences and control bytes.
        let odd = "\u{1B}\u{1B}[\u{1B}[999999999999999999999m(\u{0}pid=)\u{7F}( ((((\n\u{FFFD}[;m[m\n\u{1B}"
        #expect(LogJudge.judge(odd).runtime == .unknown)
    }

    @Test func judgementRoundTripsThroughJSON() throws {
        let j = LogJudge.judge(vllm08TP)
        let data = try JSONEncoder().encode(j)
        let back = try JSONDecoder().decode(LogJudgement.self, from: data)
        #expect(back == j)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("\"phase\":\"Serving\""))
        #expect(text.contains("\"runtime\":\"vllm\""))
    }

    @Test(arguments: [
        ("2025-08-12T08:42:39.123456789Z INFO x", "INFO x"),
        ("2025-08-12T08:42:39+02:00 INFO x", "INFO x"),
        ("[2025-08-12T08:42:39Z] INFO x", "INFO x"),
        ("Aug  2 08:42:39 host vllm[12]: INFO x", "INFO x"),
        ("März 12 08:42:39 host python3[12]: INFO x", "INFO x"),
        ("(APIServer pid=1) (EngineCore_DP0 pid=2) INFO x", "INFO x"),
        ("\u{1B}[0;36m(Worker_TP0_EP0 pid=3)\u{1B}[0m INFO x\r", "INFO x"),
        ("(not a tag) INFO x", "(not a tag) INFO x"),
        ("INFO 05-24 22:18:27 [loader.py:458] keep [this]", "INFO 05-24 22:18:27 [loader.py:458] keep [this]"),
    ])
    func normalizesPrefixes(_ input: String, _ expected: String) {
        #expect(LogLineNormalizer.normalize(input) == expected)
    }

    @Test(arguments: [
        ("INFO 05-24 22:18:27 [loader.py:458] Loading weights took 5.43 seconds", "Loading weights took 5.43 seconds"),
        ("INFO 05-24 22:18:27 model_runner.py:146] Loading model weights took 0.2 GB",
            "Loading model weights took 0.2 GB"),
        ("WARNING 05-24 22:18:27 [v1/worker/x.py:1] hello", "hello"),
        ("INFO:     Application startup complete.", "INFO:     Application startup complete."),
    ])
    func extractsMessage(_ line: String, _ expected: String) {
        #expect(LogLineNormalizer.message(line) == expected)
    }
}
