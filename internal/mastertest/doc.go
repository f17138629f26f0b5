// Package mastertest runs a real Buildbot master (Debian's buildbot 3.7
// package) for tests and demos, and talks to it over its REST API.
//
// A master is started with New (or Start in tests) from Options holding
// Python snippets for master.cfg. The harness writes buildbot.tac and
// master.cfg itself, with the PB port, the web server and every other
// listener bound to 127.0.0.1 on ports picked at run time, an in-memory
// SQLite database, and no usage reporting. It runs `buildbot start
// --nodaemon` as a child process in its own process group, waits until the
// master logs "BuildMaster is running" and /api/v2 answers, and retries with
// new ports if one was taken in between. Close stops it (SIGTERM, then
// SIGKILL) and removes the temporary basedir.
//
// Buildbot's web service refuses to start without the "base" www plugin,
// normally provided by the buildbot-www UI package, which Debian does not
// ship. The harness generates a stand-in in the master's basedir: a package
// whose plugin object is buildbot.www.plugin.Application over an empty
// static directory, and a .dist-info directory whose entry_points.txt
// registers it as "base" in the "buildbot.www" group, put on the master's
// PYTHONPATH. No master code is changed, and everything under /api/v2
// works, including JSON-RPC control calls.
//
// Workers, either Buildbot's Python worker or buildslave (they share the
// create-worker and start command lines), are run with StartWorker or
// StartReferenceWorker (RunWorker and RunReferenceWorker in tests).
//
// Typical test:
//
//	m := mastertest.Start(t, mastertest.Options{
//		Workers: []mastertest.WorkerSpec{{Name: "w1", Password: "pw"}},
//		Builders: `
//	f = util.BuildFactory()
//	f.addStep(steps.ShellCommand(name="hello", command=["sh", "-c", "echo out; echo err >&2"]))
//	c['builders'].append(util.BuilderConfig(name="b1", workernames=["w1"], factory=f))
//	`,
//		ForceSchedulers: []string{"b1"},
//	})
//	mastertest.RunReferenceWorker(t, m, "w1", "pw")
//	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
//	defer cancel()
//	if _, err := m.WaitWorkerConnected(ctx, "w1"); err != nil {
//		t.Fatal(err)
//	}
//	id, err := m.ForceBuild(ctx, "b1", nil)
//	…
//	b, err := m.WaitBuild(ctx, id)          // b.Results == mastertest.SUCCESS
//	l, err := m.StepLog(ctx, id, "hello", "stdio")
//	log, err := m.StdioLog(ctx, l.LogID)    // log.Stdout() == "out\n"
//
// Facts about the 3.7 master worth knowing when writing assertions:
//
//   - Every build starts with a master-side step number 0,
//     "worker_preparation", which has no logs; the factory's steps follow
//     from number 1. Step and log ids are unique across the master.
//   - Stdio logs are stored line by line, each line prefixed by its stream
//     ('o', 'e', 'h') and newline-terminated; a final partial line gets a
//     newline when the log finishes. The master also turns "\r\n", a lone
//     "\r", backspace runs and some ANSI cursor sequences into line breaks,
//     and splits lines longer than 4096 characters.
//   - A force call answers with build request ids, not build ids: a build
//     exists only once a worker has taken the request (ForceBuild waits).
package mastertest
