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

3. Updating an ECS service to a new task definition leaves its PRIMARY deployment pointing at
   the old one (real ECS starts a new PRIMARY deployment for the new revision), which would read
   as a rollback. After an update that changes the task definition, the service gets a new
   PRIMARY deployment of the new revision, with moto's own rule for its rollout state (COMPLETED
   when MOTO_ECS_SERVICE_RUNNING is at least the desired count).

4. Updating a stack whose task definition changes replaces the task definition, but moto does
   not pass the new revision on to the ECS service that references it (it compares the raw
   `Ref`, which did not change). After a change set is applied, every ECS service of the stack
   is updated to the task definition its template now resolves to, as CloudFormation does.

5. ECS service deployments (ListServiceDeployments, DescribeServiceDeployments) are not
   implemented, and moto answers them with a server error that clients retry for seconds. moto
   keeps no record of service deployments, so they are answered as ECS answers for a service
   without any: empty lists. tug then judges rollouts from the service's `deployments`, as it
   does wherever the record is missing (its lifecycle-stage logic is tested with recorded ECS
   responses instead).

6. Updating a stack whose task definition changed registers the new revision from the raw
   CloudFormation properties (PascalCase keys), so the revision has containers without names or
   images, and moto deregisters the old revision even where the template retains it
   (`UpdateReplacePolicy: Retain`, which tug's service stacks use so that `tug svc rollback` can
   run an earlier revision again). The new revision is now registered as on create, and the old
   one is left registered.
7-8. EC2 capacity providers, service scaling resources and alarms through CloudFormation, and a
   service's launch settings: see `patch_moto_capacity_and_scaling` below.
9. Step Functions executions never end, and moto's CloudFormation creates state machines without
   their definition, so `tug job run` could never see a job finish: see `patch_job_executions`.
10. Route tables cannot be deleted through CloudFormation, so an environment stack can never be
   deleted: see `patch_route_table_deletion`.
11. A nested stack (AWS::CloudFormation::Stack) has no attributes in moto, so `Fn::GetAtt
   [Nested, Outputs.Name]` (how CloudFormation reads a nested stack's outputs, and how a
   workload reads its addons) crashes the request: see `patch_nested_stack_outputs`.
12. Updating a stack to a template that declares none of its old parameters, with no parameter
   values, fails with a server error (moto keeps the old values and looks each up in the new
   template); CloudFormation drops values the new template does not declare, as `tug adopt`
   needs when it replaces a Copilot template: see `patch_dropped_parameters`.
13. A resource removed from the template by a stack update is deleted even with
   `DeletionPolicy: Retain` (and deleting one of a type moto does not implement is a server
   error); CloudFormation keeps retained resources and only drops them from the stack, which is
   how `tug adopt` removes Copilot's custom resources: see `patch_retained_on_update`.
14. A stack update that changes a resource of a type moto cannot update (a VPC, a subnet, an
   internet gateway, a load balancer... whose tags change) loses the resource: the stack then
   lists it without a physical id and its outputs and exports resolve to nothing.
   CloudFormation updates such resources in place; moto now keeps the resource it has (its
   changed properties are not applied): see `patch_resources_kept_on_update`.
15. Any update of a stack's ECS cluster without `ClusterName` replaces the cluster (moto draws a
   new name each time), and any update of a security group deletes and recreates it. AWS
   replaces neither unless a create-only property changes (`ClusterName`; `GroupDescription`,
   `GroupName`, `VpcId`): moto now keeps them in that case: see `patch_cluster_and_group_updates`.
16. Executing an UPDATE change set ignores the tags it was created with; CloudFormation applies
   them to the stack (`tug adopt` adds tug's tags to a Copilot stack this way): see
   `patch_update_change_set_tags`.
17. `Fn::GetAtt [Zone, NameServers]` of an AWS::Route53::HostedZone is not an attribute in moto
   (the request fails); CloudFormation returns the zone's name servers, which an environment
   stack delegates its subdomain to: see `patch_hosted_zone_name_servers`.
18. AWS::CertificateManager::Certificate has no CloudFormation model in moto, so nothing is
   requested and its `Ref` (the ARN an HTTPS listener uses) resolves to nothing. The certificate
   is now requested through moto's ACM backend and `Ref` is its ARN, as in CloudFormation; the
   DNS validation records CloudFormation writes, and the wait for ACM to issue, are not
   modelled: see `patch_certificates`.
19. A stack update that changes a listener rule's `Priority` leaves the rule at its old
   priority (moto applies only conditions and actions). CloudFormation updates the priority in
   place (no interruption) and fails the update with PriorityInUse when another rule of the
   listener holds it; `tug adopt` keeps the priorities Copilot chose, and its tests need a
   change of priority to show: see `patch_listener_rule_priority_updates`.
20. FilterLogEvents ignores `logStreamNamePrefix` and returns the events of every stream of the
   group; CloudWatch Logs returns only those of the streams whose names start with it (`tug svc
   logs --container web` narrows to `tug/web/` on the server, and the streams Copilot's tasks
   wrote, `copilot/web/...`, must then still be found): see `patch_log_stream_prefix`.

Everything else is moto as published. Environment variables such as MOTO_ECS_SERVICE_RUNNING are
read by moto itself.
"""

import argparse
import sys


def sync_ecs_services(stack) -> None:  # type: ignore[no-untyped-def]
    """Points each ECS service of `stack` at the task definition its template resolves to."""
    from moto.cloudformation import parsing
    from moto.ecs.models import ecs_backends

    resources = (stack.template_dict or {}).get("Resources") or {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != "AWS::ECS::Service":
            continue
        service = stack.resource_map[logical_id]
        wanted = parsing.clean_json((resource.get("Properties") or {}).get("TaskDefinition"), stack.resource_map)
        if service is None or not isinstance(wanted, str) or wanted == service.task_definition:
            continue
        backend = ecs_backends[stack.account_id][stack.region_name]
        backend.update_service(
            {"cluster": service.cluster_name, "service": service.name, "task_definition": wanted}
        )


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
        sync_ecs_services(stack)

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

    from moto.core.utils import utcnow
    from moto.ecs import models as ecs_models
    from moto.moto_api._internal import mock_random

    original_update_service = ecs_models.EC2ContainerServiceBackend.update_service

    def update_service(self, service_properties):  # type: ignore[no-untyped-def]
        service = original_update_service(self, service_properties)
        current = service.deployments[0] if service.deployments else None
        if current is not None and current.get("taskDefinition") != service.task_definition:
            deployment = dict(current)
            deployment_id = f"ecs-svc/{mock_random.randint(0, 32**12)}"
            state = "COMPLETED" if service.running_count >= service.desired_count else "IN_PROGRESS"
            now = utcnow()
            deployment.update(
                id=deployment_id,
                taskDefinition=service.task_definition,
                desiredCount=service.desired_count,
                rolloutState=state,
                rolloutStateReason=f"ECS deployment {deployment_id} {'completed' if state == 'COMPLETED' else 'in progress'}.",
                createdAt=now,
                updatedAt=now,
            )
            service.deployments = [deployment]
        return service

    ecs_models.EC2ContainerServiceBackend.update_service = update_service


def patch_service_deployments() -> None:
    """Fix 5: empty answers for the ECS service-deployment APIs moto does not implement."""
    from moto.core.responses import ActionResult
    from moto.ecs.responses import EC2ContainerServiceResponse

    def list_service_deployments(self):  # type: ignore[no-untyped-def]
        return ActionResult({"serviceDeployments": []})

    def describe_service_deployments(self):  # type: ignore[no-untyped-def]
        arns = self._get_param("serviceDeploymentArns") or []
        failures = [{"arn": arn, "reason": "MISSING"} for arn in arns]
        return ActionResult({"serviceDeployments": [], "failures": failures})

    EC2ContainerServiceResponse.list_service_deployments = list_service_deployments
    EC2ContainerServiceResponse.describe_service_deployments = describe_service_deployments


def patch_task_definition_updates() -> None:
    """Fix 6: a replaced task definition is registered like a new one; the old one is kept."""
    from moto.core.utils import pascal_to_camelcase, remap_nested_keys
    from moto.ecs.models import TaskDefinition

    def update_from_cloudformation_json(  # type: ignore[no-untyped-def]
        cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
    ):
        properties = cloudformation_json["Properties"]
        wanted = remap_nested_keys(properties.get("ContainerDefinitions", []), pascal_to_camelcase)
        volumes = remap_nested_keys(properties.get("Volumes", []), pascal_to_camelcase)
        if (
            properties.get("Family") == original_resource.family
            and wanted == original_resource.container_definitions
            and volumes == (original_resource.volumes or [])
        ):
            return original_resource
        return TaskDefinition.create_from_cloudformation_json(
            new_resource_name, cloudformation_json, account_id, region_name
        )

    TaskDefinition.update_from_cloudformation_json = classmethod(update_from_cloudformation_json)
# ---------------------------------------------------------------------------------------------
# EC2 capacity and service scaling through CloudFormation (issue 6).
#
# 7. moto's CloudFormation skips AWS::ECS::CapacityProvider, AWS::ECS::ClusterCapacityProviderAssociations,
#    AWS::ApplicationAutoScaling::ScalableTarget / ::ScalingPolicy and AWS::CloudWatch::Alarm (it has
#    no model for them), although its ECS, Application Auto Scaling and CloudWatch backends implement
#    the APIs. The models below create, replace and delete them through those backends, so a deploy
#    test can see the capacity providers, the cluster's associations and default strategy, the
#    scalable target with its scheduled actions, the step and target-tracking policies and the
#    alarms. Updates replace the resource (delete, then create), which is what the tests need.
# 8. moto's AWS::ECS::Service ignores LaunchType, CapacityProviderStrategy, SchedulingStrategy and
#    the placement properties (every service reads as a REPLICA service with launch type EC2). After
#    CloudFormation creates or updates a service, these are copied onto it as given.
# Not modelled by moto at all: EC2 instances joining the cluster (no container instances), ECS
# managed scaling of the Auto Scaling group, alarms firing, scheduled actions running.
# ---------------------------------------------------------------------------------------------


def patch_moto_capacity_and_scaling() -> None:
    from typing import Any

    from moto.applicationautoscaling.models import applicationautoscaling_backends
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.ecs import models as ecs_models

    def lower_first(value: Any) -> Any:
        """CloudFormation's PascalCase keys as the ECS API's camelCase."""
        if isinstance(value, dict):
            return {k[:1].lower() + k[1:]: lower_first(v) for k, v in value.items()}
        if isinstance(value, list):
            return [lower_first(v) for v in value]
        return value

    def name_of(value: Any) -> str:
        return getattr(value, "name", None) or str(value)

    class Replaced:
        """Replaces on update: delete the old resource, create the new one. A mixin: moto lists
        the direct subclasses of CloudFormationModel as resource types."""

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
            original_resource.delete(account_id, region_name)
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name
        ):
            pass

        @staticmethod
        def cloudformation_name_type() -> str:
            return ""

    class CfnCapacityProvider(Replaced, CloudFormationModel):
        __module__ = "moto.ecs.tug_patches"  # moto's model registry keys models by service

        def __init__(self, provider: Any) -> None:
            self.provider = provider

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ECS::CapacityProvider"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            props = cloudformation_json["Properties"]
            backend = ecs_models.ecs_backends[account_id][region_name]
            asg = lower_first(props["AutoScalingGroupProvider"])
            asg["autoScalingGroupArn"] = name_of(asg.get("autoScalingGroupArn"))
            tags = [{"key": t["Key"], "value": t["Value"]} for t in props.get("Tags", [])]
            return cls(backend.create_capacity_provider(props.get("Name", resource_name), asg, tags))

        def delete(self, account_id: str, region_name: str) -> None:
            ecs_models.ecs_backends[account_id][region_name].delete_capacity_provider(self.provider.name)

        @property
        def physical_resource_id(self) -> str:
            return self.provider.name

    class CfnClusterAssociations(Replaced, CloudFormationModel):
        __module__ = "moto.ecs.tug_patches"  # moto's model registry keys models by service

        def __init__(self, cluster: str) -> None:
            self.cluster = cluster

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ECS::ClusterCapacityProviderAssociations"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            props = cloudformation_json["Properties"]
            backend = ecs_models.ecs_backends[account_id][region_name]
            cluster = name_of(props["Cluster"])
            providers = [name_of(p) for p in props.get("CapacityProviders", [])]
            strategy = lower_first(props.get("DefaultCapacityProviderStrategy", []))
            for item in strategy:
                item["capacityProvider"] = name_of(item["capacityProvider"])
            backend.put_cluster_capacity_providers(cluster, providers, strategy)
            return cls(cluster)

        def delete(self, account_id: str, region_name: str) -> None:
            backend = ecs_models.ecs_backends[account_id][region_name]
            try:
                backend.put_cluster_capacity_providers(self.cluster, [], [])
            except Exception:  # the cluster is gone already
                pass

        @property
        def physical_resource_id(self) -> str:
            return self.cluster

    class CfnScalableTarget(Replaced, CloudFormationModel):
        __module__ = "moto.applicationautoscaling.tug_patches"  # moto's model registry keys models by service

        def __init__(self, namespace: str, resource_id: str, dimension: str) -> None:
            self.namespace, self.resource_id, self.dimension = namespace, resource_id, dimension

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApplicationAutoScaling::ScalableTarget"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            props = cloudformation_json["Properties"]
            backend = applicationautoscaling_backends[account_id][region_name]
            namespace, resource_id = props["ServiceNamespace"], props["ResourceId"]
            dimension = props["ScalableDimension"]
            backend.register_scalable_target(
                namespace, resource_id, dimension, int(props["MinCapacity"]),
                int(props["MaxCapacity"]), props.get("RoleARN", ""), props.get("SuspendedState", {}),
            )
            for action in props.get("ScheduledActions", []):
                target_action = lower_first(action.get("ScalableTargetAction", {}))
                backend.put_scheduled_action(
                    namespace, action["Schedule"], action.get("Timezone", "UTC"),
                    action["ScheduledActionName"], resource_id, dimension,
                    action.get("StartTime"), action.get("EndTime"), target_action,
                )
            return cls(namespace, resource_id, dimension)

        def delete(self, account_id: str, region_name: str) -> None:
            backend = applicationautoscaling_backends[account_id][region_name]
            backend.scheduled_actions = [
                a for a in backend.scheduled_actions if a.resource_id != self.resource_id
            ]
            try:
                backend.deregister_scalable_target(self.namespace, self.resource_id, self.dimension)
            except Exception:  # already gone
                pass

        @property
        def physical_resource_id(self) -> str:
            return f"{self.resource_id}|{self.dimension}|{self.namespace}"

    class CfnScalingPolicy(Replaced, CloudFormationModel):
        __module__ = "moto.applicationautoscaling.tug_patches"  # moto's model registry keys models by service

        def __init__(self, policy: Any) -> None:
            self.policy = policy

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::ApplicationAutoScaling::ScalingPolicy"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            props = cloudformation_json["Properties"]
            backend = applicationautoscaling_backends[account_id][region_name]
            target = props["ScalingTargetId"]
            if isinstance(target, CfnScalableTarget):
                resource_id, dimension, namespace = target.resource_id, target.dimension, target.namespace
            else:
                resource_id, dimension, namespace = str(target).split("|")
            body = {}
            for key in ("TargetTrackingScalingPolicyConfiguration", "StepScalingPolicyConfiguration"):
                if key in props:
                    body[key] = props[key]
            policy = backend.put_scaling_policy(
                props["PolicyName"], namespace, resource_id, dimension, body, props["PolicyType"]
            )
            return cls(policy)

        def delete(self, account_id: str, region_name: str) -> None:
            backend = applicationautoscaling_backends[account_id][region_name]
            p = self.policy
            try:
                backend.delete_scaling_policy(
                    p.policy_name, p.service_namespace, p.resource_id, p.scalable_dimension
                )
            except Exception:  # already gone
                pass

        @property
        def physical_resource_id(self) -> str:
            return self.policy.policy_arn

    class CfnAlarm(Replaced, CloudFormationModel):
        __module__ = "moto.cloudwatch.tug_patches"  # moto's model registry keys models by service

        def __init__(self, name: str) -> None:
            self.name = name

        @staticmethod
        def cloudformation_type() -> str:
            return "AWS::CloudWatch::Alarm"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            props = cloudformation_json["Properties"]
            backend = cloudwatch_backends[account_id][region_name]
            name = props.get("AlarmName", resource_name)
            dimensions = [
                {"Name": d["Name"], "Value": name_of(d["Value"])} for d in props.get("Dimensions", [])
            ]
            actions = [getattr(a, "physical_resource_id", a) for a in props.get("AlarmActions", [])]
            backend.put_metric_alarm(
                name=name,
                namespace=props.get("Namespace", ""),
                metric_name=props.get("MetricName", ""),
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]),
                period=int(props.get("Period", 60)),
                threshold=float(props.get("Threshold", 0)),
                statistic=props.get("Statistic", "Average"),
                description=props.get("AlarmDescription", ""),
                dimensions=dimensions,
                alarm_actions=actions,
                treat_missing_data=props.get("TreatMissingData"),
            )
            return cls(name)

        def delete(self, account_id: str, region_name: str) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([self.name])

        @property
        def physical_resource_id(self) -> str:
            return self.name

    # Keep the names used, so the classes stay referenced (moto finds them as subclasses).
    patch_moto_capacity_and_scaling.models = (  # type: ignore[attr-defined]
        CfnCapacityProvider, CfnClusterAssociations, CfnScalableTarget, CfnScalingPolicy, CfnAlarm,
    )

    service_cls = ecs_models.Service

    def copy_placement(service: Any, props: dict) -> Any:
        if service is None:
            return service
        if "SchedulingStrategy" in props:
            service.scheduling_strategy = props["SchedulingStrategy"]
        if "CapacityProviderStrategy" in props:
            service.capacity_provider_strategy = lower_first(props["CapacityProviderStrategy"])
            service.launch_type = None
        elif "LaunchType" in props:
            service.launch_type = props["LaunchType"]
            service.capacity_provider_strategy = None
        service.placement_strategy = lower_first(props.get("PlacementStrategies", []))
        service.placement_constraints = lower_first(props.get("PlacementConstraints", []))
        return service

    original_create = service_cls.create_from_cloudformation_json.__func__
    original_update = service_cls.update_from_cloudformation_json.__func__

    def create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        service = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        return copy_placement(service, cloudformation_json.get("Properties", {}))

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        service = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        return copy_placement(service, cloudformation_json.get("Properties", {}))

    service_cls.create_from_cloudformation_json = classmethod(create)
    service_cls.update_from_cloudformation_json = classmethod(update)


def watch_parent() -> None:
    import os
    import threading
    import time

    parent = os.getppid()

    def loop() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=loop, daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when the process that started this one exits (for test harnesses)",
    )
    args = parser.parse_args()
    if args.exit_with_parent:
        watch_parent()
    patch_moto()
    patch_service_deployments()
    patch_task_definition_updates()
    patch_moto_capacity_and_scaling()
    patch_job_executions()
    patch_route_table_deletion()
    patch_nested_stack_outputs()
    patch_dropped_parameters()
    patch_retained_on_update()
    patch_resources_kept_on_update()
    patch_cluster_and_group_updates()
    patch_update_change_set_tags()
    patch_hosted_zone_name_servers()
    patch_certificates()
    patch_listener_rule_priority_updates()
    patch_log_stream_prefix()
    patch_record_set_create_over_existing()
    patch_record_set_group_updates()
    patch_hosted_zone_deletion()
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=args.host, port=args.port, verbose=False)
    server.start()
    # `--port 0` lets the system pick a free port, named here: tests read it from this line,
    # which no other process can take between choosing and binding the port.
    host, port = server.get_host_and_port()
    print(f"moto listening on http://{host}:{port}", flush=True)
    try:
        server._thread.join()  # serve until killed
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


# --- Appended for `tug job run` (issue 7) ------------------------------------------------------


def patch_job_executions() -> None:
    """Step Functions executions of a tug Scheduled Job end with the job's exit code (issue 7).

    moto's executions stay RUNNING forever, and moto's CloudFormation creates a state machine
    without its `Definition`, so `tug job run` could never see a job end. An execution of a state
    machine created by a stack that also holds an ECS `TaskDefinition` (a tug job stack) now ends
    at once, as if its task ran: the main container (named after the stack's `tug:workload` tag)
    "exits" with the number after the last `exit ` in its command, or 0 when there is none. Exit 0
    ends the execution SUCCEEDED with the stopped task as output; anything else ends it FAILED
    with error States.TaskFailed and the stopped task as cause, which is what Step Functions'
    `ecs:runTask.sync` integration reports.
    """
    import json

    from moto.core.utils import utcnow
    from moto.stepfunctions import models as sfn_models

    original_start = sfn_models.StateMachine.start_execution

    def start_execution(self, region_name, account_id, execution_name, execution_input):  # type: ignore[no-untyped-def]
        execution = original_start(self, region_name, account_id, execution_name, execution_input)
        try:
            task = stopped_job_task(self, account_id, region_name)
        except Exception:  # noqa: BLE001 - an unexpected stack shape leaves moto's behaviour
            task = None
        if task is not None and execution.status == "RUNNING":
            execution.stop_date = utcnow()
            if task["Containers"][0]["ExitCode"] == 0:
                execution.status = "SUCCEEDED"
                execution.output = json.dumps(task)
            else:
                execution.status = "FAILED"
                execution.error = "States.TaskFailed"
                execution.cause = json.dumps(task)
        return execution

    sfn_models.StateMachine.start_execution = start_execution


def stopped_job_task(state_machine, account_id, region_name):  # type: ignore[no-untyped-def]
    """The stopped ECS task (as Step Functions reports it) of the job stack owning `state_machine`."""
    import re

    from moto.cloudformation.models import cloudformation_backends
    from moto.ecs.models import ecs_backends
    from moto.moto_api._internal import mock_random

    for stack in cloudformation_backends[account_id][region_name].stacks.values():
        resources = (stack.template_dict or {}).get("Resources") or {}
        machines = [k for k, r in resources.items() if r.get("Type") == "AWS::StepFunctions::StateMachine"]
        if "TaskDefinition" not in resources or not machines:
            continue
        if getattr(stack.resource_map[machines[0]], "arn", None) != state_machine.arn:
            continue
        # The latest revision of the stack's task family: moto's resource map can still hold
        # the revision an update replaced.
        family = stack.resource_map["TaskDefinition"].family
        revisions = ecs_backends[account_id][region_name].task_definitions.get(family) or {}
        task_definition = revisions[max(revisions)] if revisions else stack.resource_map["TaskDefinition"]
        workload = (stack.tags or {}).get("tug:workload")
        # A revision moto registers on a stack update keeps the template's PascalCase keys.
        containers = [
            {"name": c.get("name", c.get("Name")), "command": c.get("command", c.get("Command"))}
            for c in task_definition.container_definitions
        ]
        main = next((c for c in containers if c["name"] == workload), containers[0])
        codes = re.findall(r"exit (\d+)", " ".join(main["command"] or []))
        code = int(codes[-1]) if codes else 0
        task_id = mock_random.get_random_hex(32)
        return {
            "TaskArn": f"arn:aws:ecs:{region_name}:{account_id}:task/{task_id}",
            "TaskDefinitionArn": task_definition.arn,
            "LastStatus": "STOPPED",
            "StopCode": "EssentialContainerExited",
            "StoppedReason": "Essential container in task exited",
            "Containers": [{"Name": main["name"], "ExitCode": code, "LastStatus": "STOPPED"}],
        }
    return None


def patch_route_table_deletion() -> None:
    """Deleting an environment stack deletes its route tables (issue 7).

    moto's CloudFormation cannot delete an AWS::EC2::RouteTable (the resource has no delete
    hook), so the VPC that holds it can never be deleted ("has dependencies") and deleting an
    environment stack fails. Route tables now delete themselves when their stack is deleted,
    after dropping their subnet associations (which CloudFormation deletes as resources of the
    same stack).
    """
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.route_tables import RouteTable

    def delete(self, account_id, region_name):  # type: ignore[no-untyped-def]
        self._associations.clear()
        ec2_backends[account_id][region_name].delete_route_table(self.id)

    RouteTable.delete = delete


def patch_nested_stack_outputs() -> None:
    """`Outputs.<Name>` of a nested stack is that output's value, as in CloudFormation."""
    from moto.cloudformation.models import Stack

    def get_cfn_attribute(self, attribute_name):  # type: ignore[no-untyped-def]
        if attribute_name.startswith("Outputs."):
            key = attribute_name[len("Outputs.") :]
            for output in self.output_map.values():
                if output and output.key == key:
                    return output.value
        raise NotImplementedError('"Fn::GetAtt" : [ "{0}" , "%s" ]"' % attribute_name)

    Stack.get_cfn_attribute = get_cfn_attribute



def patch_dropped_parameters() -> None:
    """Parameter values the updated template does not declare are dropped, as CloudFormation
    drops them, instead of failing the update."""
    from moto.cloudformation import parsing

    original = parsing.ResourceMap.load_parameters

    def load_declared_parameters(self):  # type: ignore[no-untyped-def]
        declared = self._template.get("Parameters", {}) or {}
        self.input_parameters = {
            k: v for k, v in (self.input_parameters or {}).items() if k in declared
        }
        original(self)

    parsing.ResourceMap.load_parameters = load_declared_parameters


def patch_retained_on_update() -> None:
    """A resource with `DeletionPolicy: Retain` removed by a stack update is dropped from the
    stack and kept, as CloudFormation keeps it, instead of deleted."""
    from moto.cloudformation import parsing

    original_update = parsing.ResourceMap.update
    original_delete = parsing.ResourceMap._delete_resource

    def update_keeping_retained(self, template, parameters=None):  # type: ignore[no-untyped-def]
        self._tug_updating = True
        try:
            return original_update(self, template, parameters)
        finally:
            self._tug_updating = False

    def delete_unless_retained(self, parsed_resource, resource_json):  # type: ignore[no-untyped-def]
        if getattr(self, "_tug_updating", False) and resource_json.get("DeletionPolicy") == "Retain":
            return None
        return original_delete(self, parsed_resource, resource_json)

    parsing.ResourceMap.update = update_keeping_retained
    parsing.ResourceMap._delete_resource = delete_unless_retained


def patch_resources_kept_on_update() -> None:
    """A resource of a type moto cannot update stays in the stack (unchanged) instead of being
    lost; CloudFormation updates such resources in place."""
    from moto.cloudformation import parsing

    original_parse_and_update = parsing.parse_and_update_resource

    def update_or_keep(logical_id, resource_json, resources_map, account_id, region_name):  # type: ignore[no-untyped-def]
        updated = original_parse_and_update(
            logical_id, resource_json, resources_map, account_id, region_name
        )
        if updated is None:
            return resources_map._parsed_resources.get(logical_id)
        return updated

    parsing.parse_and_update_resource = update_or_keep


def patch_cluster_and_group_updates() -> None:
    """An ECS cluster or security group whose create-only properties are unchanged is updated
    in place (kept), not replaced, as in CloudFormation."""
    from moto.ec2.models.security_groups import SecurityGroup
    from moto.ecs.models import Cluster

    original_cluster_update = Cluster.update_from_cloudformation_json.__func__

    def cluster_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        name = (cloudformation_json.get("Properties") or {}).get("ClusterName")
        if name is None or name == original_resource.name:
            return original_resource
        return original_cluster_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )

    Cluster.update_from_cloudformation_json = classmethod(cluster_update)

    original_sg_update = SecurityGroup.update_from_cloudformation_json.__func__

    def security_group_update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json.get("Properties") or {}
        same = (
            props.get("GroupDescription") == original_resource.description
            and props.get("VpcId") == original_resource.vpc_id
            and props.get("GroupName") in (None, original_resource.name)
        )
        if same:
            return original_resource
        return original_sg_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )

    SecurityGroup.update_from_cloudformation_json = classmethod(security_group_update)


def patch_update_change_set_tags() -> None:
    """Executing an UPDATE change set applies the tags it was created with to the stack."""
    from moto.cloudformation import models

    applying = models.ChangeSet.apply

    def apply_with_tags(self):  # type: ignore[no-untyped-def]
        applying(self)
        if self.change_set_type == "UPDATE" and self.tags:
            self.stack.tags = dict(self.tags)

    models.ChangeSet.apply = apply_with_tags


def patch_hosted_zone_name_servers() -> None:
    """`Fn::GetAtt [Zone, NameServers]` is the hosted zone's name servers, as in CloudFormation."""
    from moto.route53.models import FakeZone

    def has_cfn_attr(cls, attr):  # type: ignore[no-untyped-def]
        return attr in ("Id", "NameServers")

    def get_cfn_attribute(self, attribute_name):  # type: ignore[no-untyped-def]
        if attribute_name == "Id":
            return self.resource_id
        if attribute_name == "NameServers":
            return list(self.delegation_set.name_servers) if self.delegation_set else []
        raise NotImplementedError('"Fn::GetAtt" : [ "{0}" , "%s" ]"' % attribute_name)

    FakeZone.has_cfn_attr = classmethod(has_cfn_attr)
    FakeZone.get_cfn_attribute = get_cfn_attribute


def patch_certificates() -> None:
    """AWS::CertificateManager::Certificate is requested from ACM and its `Ref` is the ARN, as
    in CloudFormation (validation and issuance are not modelled)."""
    from moto.acm.models import acm_backends
    from moto.core.common_models import CloudFormationModel

    class Certificate(CloudFormationModel):
        __module__ = "moto.acm.tug_patches"  # moto's model registry keys models by service

        def __init__(self, arn, account_id, region_name):  # type: ignore[no-untyped-def]
            self.arn = arn
            self.account_id = account_id
            self.region_name = region_name

        @property
        def physical_resource_id(self):  # type: ignore[no-untyped-def]
            return self.arn

        @staticmethod
        def cloudformation_name_type():  # type: ignore[no-untyped-def]
            return ""

        @staticmethod
        def cloudformation_type():  # type: ignore[no-untyped-def]
            return "AWS::CertificateManager::Certificate"

        @classmethod
        def create_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name, **kwargs
        ):
            props = cloudformation_json["Properties"]
            arn = acm_backends[account_id][region_name].request_certificate(
                domain_name=props["DomainName"],
                idempotency_token=None,
                subject_alt_names=props.get("SubjectAlternativeNames") or [],
                tags=props.get("Tags") or [],
            )
            certificate = cls(arn, account_id, region_name)
            certificate.properties = props
            return certificate

        @classmethod
        def update_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        ):
            # An update that changes no property (only `DeletionPolicy`, say) leaves the
            # certificate alone, as CloudFormation does; moto called this for any change of the
            # resource's JSON, and the certificate got a new ARN (fix 22).
            if cloudformation_json.get("Properties") == getattr(original_resource, "properties", None):
                return original_resource
            # Every property of a certificate is create-only: CloudFormation replaces it.
            cls.delete_from_cloudformation_json(
                original_resource.arn, {}, account_id, region_name
            )
            return cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )

        @classmethod
        def delete_from_cloudformation_json(  # type: ignore[no-untyped-def]
            cls, resource_name, cloudformation_json, account_id, region_name
        ):
            try:
                acm_backends[account_id][region_name].delete_certificate(resource_name)
            except Exception:  # already gone
                pass

    # moto lists the subclasses of CloudFormationModel as its resource types.
    assert Certificate in CloudFormationModel.__subclasses__()

# --- Appended for `tug adopt` (issue 14, second session) ----------------------------------------


def patch_listener_rule_priority_updates() -> None:
    """A listener rule's `Priority` changed by a stack update is applied, and refused with
    PriorityInUse when another rule of the listener holds it, as in CloudFormation."""
    from moto.elbv2.exceptions import PriorityInUseError
    from moto.elbv2.models import FakeListenerRule, elbv2_backends

    original_update = FakeListenerRule.update_from_cloudformation_json.__func__

    def update_with_priority(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        wanted = (cloudformation_json.get("Properties") or {}).get("Priority")
        if wanted is not None and str(wanted) != str(original_resource.priority):
            backend = elbv2_backends[account_id][region_name]
            listener = backend.describe_listeners(None, [original_resource.listener_arn])[0]
            for rule in listener.rules.values():
                if rule.arn != original_resource.arn and str(rule.priority) == str(wanted):
                    raise PriorityInUseError()
        rule = original_update(
            cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name
        )
        if wanted is not None:
            rule.priority = int(wanted)
        return rule

    FakeListenerRule.update_from_cloudformation_json = classmethod(update_with_priority)


# --- Appended for `tug adopt` (issue 14, fourth session) ----------------------------------------


def patch_log_stream_prefix() -> None:
    """FilterLogEvents with `logStreamNamePrefix` reads only the streams whose names start with
    it, as CloudWatch Logs does (fix 20)."""
    import json

    from moto.logs.responses import LogsResponse

    original = LogsResponse.filter_log_events

    def filter_with_prefix(self):  # type: ignore[no-untyped-def]
        prefix = self._get_param("logStreamNamePrefix")
        if prefix and not self._get_param("logStreamNames"):
            group = self.logs_backend.groups.get(self._get_param("logGroupName"))
            names = [n for n in (group.streams if group else {}) if n.startswith(prefix)]
            if not names:
                return json.dumps({"events": [], "searchedLogStreams": []})
            plain = self._get_param

            def with_names(name, if_none=None):  # type: ignore[no-untyped-def]
                return names if name == "logStreamNames" else plain(name, if_none)

            self._get_param = with_names
        return original(self)

    LogsResponse.filter_log_events = filter_with_prefix


# --- Appended for `tug adopt` of aliases (issue 14, fifth session) ------------------------------


def patch_record_set_create_over_existing() -> None:
    """An AWS::Route53::RecordSet that CloudFormation creates for a name and type the zone holds
    already is refused, as Route 53 refuses the `CREATE` change CloudFormation sends
    (InvalidChangeBatch "Tried to create resource record set [name='...', type='...'] but it
    already exists"); moto added a second record silently (fix 21)."""
    from moto.route53.exceptions import ResourceRecordAlreadyExists
    from moto.route53.models import RecordSet, route53_backends
    from moto.utilities.utils import get_partition

    original = RecordSet.create_from_cloudformation_json.__func__

    def create_unless_it_exists(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs):  # type: ignore[no-untyped-def]
        props = cloudformation_json.get("Properties") or {}
        backend = route53_backends[account_id][get_partition(region_name)]
        zone_name = props.get("HostedZoneName")
        zone = backend.get_hosted_zone_by_name(zone_name) if zone_name else None
        if zone is None and props.get("HostedZoneId"):
            zone = backend.get_hosted_zone(props["HostedZoneId"])
        name = str(props.get("Name", "")).rstrip(".").lower()
        for rrset in zone.rrsets if zone else []:
            if (
                str(rrset.name).rstrip(".").lower() == name
                and rrset.type == props.get("Type")
                and rrset.set_identifier == props.get("SetIdentifier")
            ):
                raise ResourceRecordAlreadyExists(name=name + ".", _type=str(props.get("Type")))
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)

    RecordSet.create_from_cloudformation_json = classmethod(create_unless_it_exists)



# --- Appended for `tug adopt` of aliases with a hosted zone (issue 14, sixth session) -----------


def patch_record_set_group_updates() -> None:
    """An AWS::Route53::RecordSetGroup changed by a stack update changes the zone's records:
    those the group no longer holds are deleted, the others created or changed, all at once (one
    Route 53 change batch); a deleted group deletes its records. So CloudFormation does
    (RecordSets: "Update requires: No interruption"); moto left the records as first created
    in both cases (fix 23)."""
    from moto.route53.models import RecordSetGroup, route53_backends
    from moto.utilities.utils import get_partition

    def zone_of(props, account_id, region_name):  # type: ignore[no-untyped-def]
        backend = route53_backends[account_id][get_partition(region_name)]
        name = props.get("HostedZoneName")
        zone = backend.get_hosted_zone_by_name(name) if name else None
        return zone or backend.get_hosted_zone(props["HostedZoneId"])

    def key(name, kind, set_identifier):  # type: ignore[no-untyped-def]
        return (str(name or "").rstrip(".").lower(), kind, set_identifier)

    def of_dict(r):  # type: ignore[no-untyped-def]
        return key(r.get("Name"), r.get("Type"), r.get("SetIdentifier"))

    def of_rrset(r):  # type: ignore[no-untyped-def]
        return key(r.name, r.type, r.set_identifier)

    def update(cls, original_resource, new_resource_name, cloudformation_json, account_id, region_name):  # type: ignore[no-untyped-def]
        props = cloudformation_json["Properties"]
        zone = zone_of(props, account_id, region_name)
        new = props.get("RecordSets") or []
        gone = {of_dict(r) for r in original_resource.record_sets} | {of_dict(r) for r in new}
        zone.rrsets = [r for r in zone.rrsets if of_rrset(r) not in gone]
        for record_set in new:
            zone.add_rrset(record_set)
        group = RecordSetGroup(region_name, zone.resource_id, new)
        group.account_id = account_id
        return group

    def delete(self, account_id, region_name):  # type: ignore[no-untyped-def]
        backend = route53_backends[account_id][get_partition(region_name)]
        zone = backend.zones.get(self.hosted_zone_id)
        if zone is not None:
            held = {of_dict(r) for r in self.record_sets}
            zone.rrsets = [r for r in zone.rrsets if of_rrset(r) not in held]

    RecordSetGroup.update_from_cloudformation_json = classmethod(update)
    RecordSetGroup.delete = delete



def patch_hosted_zone_deletion() -> None:
    """An AWS::Route53::HostedZone is deleted with its stack, and the delete fails while the
    zone holds records other than its own SOA and NS (HostedZoneNotEmpty), as CloudFormation
    and Route 53 do; moto left the zone in place (fix 24)."""
    from moto.route53.models import FakeZone, route53_backends
    from moto.utilities.utils import get_partition

    def delete(self, account_id, region_name):  # type: ignore[no-untyped-def]
        backend = route53_backends[account_id][get_partition(region_name)]
        backend.delete_hosted_zone(self.id)

    FakeZone.delete = delete


if __name__ == "__main__":
    sys.exit(main())
