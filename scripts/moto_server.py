#!/usr/bin/env python3
"""Starts moto's server for tug's tests and demo, with fixes for what moto 5.2.5 gets wrong.

    .venv/bin/python scripts/moto_server.py --port 5055

moto is the local AWS emulator tug is tested against. Where it misbehaves in ways that would make
a correct deploy fail, this launcher patches it before serving, and says so here:

1. Executing a change set does not recompute the stack's outputs or register its exports (moto
   only does so for CreateStack/UpdateStack), and a stack created by a change set cannot import
   other stacks' exports, so a workload stack could never import what its environment stack
   exports. Around applying a change set, the stack now sees the exports, and its outputs and
   exports are rebuilt afterwards.
2. Resource types moto's CloudFormation does not implement (for example
   AWS::ServiceDiscovery::PrivateDnsNamespace) are skipped by moto, and an output that reads an
   attribute of one crashes the request. Such outputs resolve to a placeholder naming the
   resource and attribute instead.

Everything else is moto as published. Environment variables such as MOTO_ECS_SERVICE_RUNNING are
read by moto itself.
"""

import argparse
import sys


def patch_moto() -> None:
    from moto.cloudformation import models, parsing

    original_apply = models.ChangeSet.apply

    def apply_and_refresh_outputs(self):  # type: ignore[no-untyped-def]
        stack = self.stack
        backend = models.cloudformation_backends[stack.account_id][stack.region_name]
        # A stack made for a CREATE change set does not see the other stacks' exports.
        stack.cross_stack_resources = backend.exports
        stack.resource_map.cross_stack_resources = backend.exports
        original_apply(self)
        stack.template = self.template
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        for export in stack.exports:
            backend.exports[export.name] = export

    models.ChangeSet.apply = apply_and_refresh_outputs

    original_validate = parsing.ResourceMap.validate_outputs

    def validate_known_outputs(self):  # type: ignore[no-untyped-def]
        outputs = self._template.get("Outputs") or {}
        known = {}
        for key, output in outputs.items():
            value = output.get("Value", {})
            if isinstance(value, dict) and "Fn::GetAtt" in value:
                resource = self._resource_json_map.get(value["Fn::GetAtt"][0]) or {}
                if parsing.resource_class_from_type(resource.get("Type", "")) is None:
                    continue
            known[key] = output
        saved = self._template.get("Outputs")
        self._template["Outputs"] = known
        try:
            original_validate(self)
        finally:
            if saved is not None:
                self._template["Outputs"] = saved

    parsing.ResourceMap.validate_outputs = validate_known_outputs

    original_get_att = parsing.clean_json

    def clean_json(resource_json, resources_map):  # type: ignore[no-untyped-def]
        if isinstance(resource_json, dict) and "Fn::GetAtt" in resource_json:
            name, attr = resource_json["Fn::GetAtt"][0], resource_json["Fn::GetAtt"][1]
            try:
                target = resources_map[name]
            except KeyError:
                target = None
            if target is None:
                return f"{name}.{attr}.unsupported-by-moto"
        return original_get_att(resource_json, resources_map)

    parsing.clean_json = clean_json


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    patch_moto()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    print(f"moto listening on http://{args.host}:{args.port}", flush=True)
    try:
        server._thread.join()  # serve until killed
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
