#!/usr/bin/env python3
"""Reads HotSpot -XX:+LogCompilation files and prints, for every C2 compile of a dev.fovea method,
the parse node count at each call to one of our own methods that takes or returns a Vector API
vector, worst first. C2 refuses to inline a (not force-inlined) call once the parse has passed
NodeCountInliningCutoff (18000 nodes); a vector crossing such a call is boxed. Lines past the
cut-off are marked REFUSED (when the log says so). See Gemv's class comment.

  python3 bench/inline_margin.py LOG...
"""
import re
import signal
import sys
from collections import defaultdict

EVENT = re.compile(
    r"<klass id='(\d+)' name='([^']+)'"
    r"|<method id='(\d+)' holder='(\d+)' name='([^']+)' return='(\d+)'(?: arguments='([^']*)')?"
    r"|<parse_done nodes='(\d+)'"
    r"|<call method='(\d+)'[^>]*/>\s*(?:<inline_fail reason='([^']*)')?"
    r"|<task compile_id='\d+'(?: compile_kind='osr')? method='([^']+)'([^>]*)>"
    r"|(</task>)|(<compilation_log)")


def main(paths):
    worst = defaultdict(int)
    refused = defaultdict(int)
    for path in paths:
        with open(path, errors='replace') as f:
            text = f.read()
        klass, names, vector_typed = {}, {}, {}
        nodes, task, c2 = 0, None, False
        for m in EVENT.finditer(text):
            g = m.groups()
            if g[0]:
                klass[g[0]] = g[1]
            elif g[2]:
                holder = klass.get(g[3], '?')
                names[g[2]] = holder.split('.')[-1] + '.' + g[4]
                types = (g[6] or '').split() + [g[5]]
                vector_typed[g[2]] = 'dev.fovea' in holder and any(
                    'jdk.incubator.vector' in klass.get(t, '') for t in types)
            elif g[7]:
                nodes = int(g[7])
            elif g[8]:
                if task and c2 and vector_typed.get(g[8]):
                    key = (task, names[g[8]])
                    worst[key] = max(worst[key], nodes)
                    if g[9] == 'NodeCountInliningCutoff':
                        refused[key] += 1
            elif g[10]:
                task, c2, nodes = g[10].split(' (')[0], "level=" not in g[11], 0
            elif g[12]:
                task = None
            elif g[13]:  # each compiler thread's log numbers its klasses and methods anew
                klass, names, vector_typed = {}, {}, {}
    if not worst:
        print('no C2 compile of a dev.fovea method calling a vector-typed method of ours found')
        return
    for (task, callee), n in sorted(worst.items(), key=lambda kv: -kv[1]):
        mark = f'  REFUSED x{refused[(task, callee)]}' if refused[(task, callee)] else ''
        print(f'{n:6d}  {task.replace("dev.fovea.tensor.cpu.", "")} -> {callee}{mark}')


if __name__ == '__main__':
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # quiet under head
    main(sys.argv[1:])
